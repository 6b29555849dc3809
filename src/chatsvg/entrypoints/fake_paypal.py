"""A fake PayPal REST API, as a real HTTP server (aiohttp): `chatsvg dev fake-paypal`, and the
billing tests' PayPal.

What it serves, as PayPal does: `POST /v1/oauth2/token` (client credentials, HTTP Basic),
`POST /v1/billing/subscriptions`, `GET /v1/billing/subscriptions/{id}`,
`POST /v1/billing/subscriptions/{id}/cancel`, `POST /v1/notifications/verify-webhook-signature`.

What PayPal does on its own, here on request (`/fake/...`, JSON):
- `GET /checkoutnow?token=I-...`: the buyer's approval page; approving activates the
  subscription (first payment at once), sends ACTIVATED and PAYMENT.SALE.COMPLETED to the
  webhook, and redirects to the subscription's return URL.
- `POST /fake/subscriptions/{id}/activate {time?}`: the same without a browser.
- `POST /fake/subscriptions/{id}/pay {time?}`: a period's payment (PAYMENT.SALE.COMPLETED).
- `POST /fake/subscriptions/{id}/status {status, time?}`: CANCELLED / SUSPENDED / EXPIRED / ACTIVE
  (with its event).
- `POST /fake/events {event_type, resource, id?, forge?, send?}`: any event, signed (or with a
  forged signature), delivered to the webhook; `POST /fake/events/{id}/redeliver`;
  `GET /fake/events`. Every `/fake` call that makes events takes `"send": false` to only record
  them (a test then delivers them in the order it wants).

Deliveries are signed with the fake's own key; `verify-webhook-signature` checks that signature
over the event and the webhook id, as PayPal checks its own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import secrets
import threading
import uuid
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from chatsvg.entrypoints.fake_paypal_state import FakePayPalState, iso, now, parse_time

__all__ = ["FakePayPal", "FakePayPalState", "serve", "start_in_thread"]


class FakePayPal:
    """The server. `start()` runs it on its own thread (tests); `serve()` in the foreground."""

    def __init__(self, state: FakePayPalState | None = None, *, host: str = "127.0.0.1") -> None:
        self.state = state or FakePayPalState()
        self.host = host
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_post("/v1/oauth2/token", self._token)
        r.add_post("/v1/billing/subscriptions", self._create)
        r.add_get("/v1/billing/subscriptions/{id}", self._get)
        r.add_post("/v1/billing/subscriptions/{id}/cancel", self._cancel)
        r.add_post("/v1/notifications/verify-webhook-signature", self._verify)
        r.add_get("/checkoutnow", self._checkout)
        r.add_post("/fake/subscriptions/{id}/activate", self._fake_activate)
        r.add_post("/fake/subscriptions/{id}/pay", self._fake_pay)
        r.add_post("/fake/subscriptions/{id}/status", self._fake_status)
        r.add_post("/fake/events", self._fake_event)
        r.add_get("/fake/events", self._fake_events)
        r.add_post("/fake/events/{id}/redeliver", self._fake_redeliver)
        r.add_post("/fake/config", self._fake_config)
        return app

    # --- running ---------------------------------------------------------------------------

    async def start_here(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        self.state.public_url = self.url

    async def stop_here(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self, port: int = 0) -> FakePayPal:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.start_here(port))
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_here())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-paypal")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake PayPal server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # --- helpers ---------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.state.tokens

    async def _deliver(self, event: dict[str, Any], *, forge: bool = False) -> dict[str, Any]:
        """POST the event to the webhook URL, signed; what the webhook answered."""
        url = self.state.webhook_url
        record = self.state.events.setdefault(str(event["id"]), {"event": event, "deliveries": []})
        if not url:
            return {"status": None, "error": "no webhook URL"}
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=30))
        body = json.dumps(event).encode()
        try:
            async with self._session.post(
                url, data=body, headers=self.state.headers_for(event, forge=forge)
            ) as response:
                answer = {"status": response.status, "body": (await response.text())[:500]}
        except Exception as exc:  # the webhook is down: PayPal would retry later
            answer = {"status": None, "error": repr(exc)}
        record["deliveries"].append(answer)
        return answer

    async def _emit(self, events: list[dict[str, Any]], send: bool) -> list[dict[str, Any]]:
        out = []
        for event in events:
            delivery = await self._deliver(event) if send else None
            out.append({"event": event, "delivery": delivery})
        return out

    def _subscription(self, request: web.Request) -> dict[str, Any]:
        sub = self.state.subscriptions.get(request.match_info["id"])
        if sub is None:
            raise web.HTTPNotFound(
                text=json.dumps({"name": "RESOURCE_NOT_FOUND"}), content_type="application/json"
            )
        return sub

    # --- PayPal's API ----------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(
            f"{self.state.client_id}:{self.state.client_secret}".encode()
        ).decode()
        form = await request.post()
        if request.headers.get("Authorization") != f"Basic {expected}" or (
            form.get("grant_type") != "client_credentials"
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        self.state.tokens.add(token)
        self.state.tokens_issued += 1
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 32400,
                "app_id": "APP-FAKE",
            }
        )

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid_token"}, status=401)
        body = await request.json()
        sub_id = f"I-{uuid.uuid4().hex[:12].upper()}"
        context = body.get("application_context") or {}
        created = iso(now())
        sub = {
            "id": sub_id,
            "plan_id": body.get("plan_id"),
            "custom_id": body.get("custom_id"),
            "status": "APPROVAL_PENDING",
            "status_update_time": created,
            "create_time": created,
            "links": [
                {
                    "href": f"{self.url}/checkoutnow?token={sub_id}",
                    "rel": "approve",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/v1/billing/subscriptions/{sub_id}",
                    "rel": "self",
                    "method": "GET",
                },
            ],
            "_return_url": context.get("return_url"),
            "_cancel_url": context.get("cancel_url"),
        }
        self.state.subscriptions[sub_id] = sub
        return web.json_response(self._public(sub), status=201)

    def _public(self, sub: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in sub.items() if not k.startswith("_")}

    async def _get(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.state.fail_next_gets > 0:
            self.state.fail_next_gets -= 1
            return web.json_response({"name": "INTERNAL_SERVICE_ERROR"}, status=500)
        return web.json_response(self._public(self._subscription(request)))

    async def _cancel(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid_token"}, status=401)
        sub = self._subscription(request)
        if sub["status"] in ("CANCELLED", "EXPIRED"):
            return web.json_response({"name": "UNPROCESSABLE_ENTITY"}, status=422)
        events = self.state.move(sub, "CANCELLED", now())
        asyncio.get_running_loop().create_task(self._emit(events, True))
        return web.Response(status=204)

    async def _verify(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"error": "invalid_token"}, status=401)
        body = await request.json()
        event = body.get("webhook_event")
        expected = self.state.sign(
            event, str(body.get("transmission_id")), str(body.get("transmission_time"))
        )
        ok = (
            body.get("webhook_id") == self.state.webhook_id
            and isinstance(body.get("transmission_sig"), str)
            and hmac.compare_digest(expected, body["transmission_sig"])
        )
        return web.json_response({"verification_status": "SUCCESS" if ok else "FAILURE"})

    async def _checkout(self, request: web.Request) -> web.Response:
        sub = self.state.subscriptions.get(request.query.get("token", ""))
        if sub is None:
            return web.Response(status=404, text="no such subscription")
        if sub["status"] == "APPROVAL_PENDING":
            await self._emit(self.state.activate(sub, now()), True)
        target = sub.get("_return_url")
        if target:
            separator = "&" if "?" in target else "?"
            raise web.HTTPFound(f"{target}{separator}subscription_id={sub['id']}")
        return web.Response(text=f"Subscription {sub['id']} approved.")

    # --- the tests' controls -----------------------------------------------------------------

    async def _options(self, request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        body = await request.json()
        return body if isinstance(body, dict) else {}

    async def _fake_activate(self, request: web.Request) -> web.Response:
        options = await self._options(request)
        events = self.state.activate(self._subscription(request), parse_time(options.get("time")))
        return web.json_response(await self._emit(events, options.get("send", True)))

    async def _fake_pay(self, request: web.Request) -> web.Response:
        options = await self._options(request)
        events = self.state.pay(self._subscription(request), parse_time(options.get("time")))
        return web.json_response(await self._emit(events, options.get("send", True)))

    async def _fake_status(self, request: web.Request) -> web.Response:
        options = await self._options(request)
        status = str(options.get("status", "")).upper()
        events = self.state.move(
            self._subscription(request), status, parse_time(options.get("time"))
        )
        return web.json_response(await self._emit(events, options.get("send", True)))

    async def _fake_event(self, request: web.Request) -> web.Response:
        options = await self._options(request)
        event = self.state.make_event(
            str(options.get("event_type")), dict(options.get("resource") or {}), options.get("id")
        )
        if not options.get("send", True):
            return web.json_response({"event": event, "delivery": None})
        delivery = await self._deliver(event, forge=bool(options.get("forge")))
        return web.json_response({"event": event, "delivery": delivery})

    async def _fake_events(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.state.events.values()))

    async def _fake_redeliver(self, request: web.Request) -> web.Response:
        record = self.state.events.get(request.match_info["id"])
        if record is None:
            raise web.HTTPNotFound()
        options = await self._options(request)
        return web.json_response(
            await self._deliver(record["event"], forge=bool(options.get("forge")))
        )

    async def _fake_config(self, request: web.Request) -> web.Response:
        options = await self._options(request)
        if "webhook_url" in options:
            self.state.webhook_url = options["webhook_url"]
        if "fail_next_gets" in options:
            self.state.fail_next_gets = int(options["fail_next_gets"])
        return web.json_response({"webhook_url": self.state.webhook_url})


def serve(
    *,
    host: str,
    port: int,
    webhook_url: str | None,
    client_id: str,
    client_secret: str,
    webhook_id: str,
    plan_id: str,
) -> None:
    """Run the fake in the foreground until interrupted (`chatsvg dev fake-paypal`)."""
    state = FakePayPalState(
        client_id=client_id,
        client_secret=client_secret,
        webhook_id=webhook_id,
        webhook_url=webhook_url,
        plan_id=plan_id,
    )
    fake = FakePayPal(state, host=host)

    async def main() -> None:
        await fake.start_here(port)
        print(f"fake PayPal on {fake.url} (webhook: {webhook_url or 'none'})", flush=True)
        print(
            f"  PAYPAL_BASE_URL={fake.url} PAYPAL_CLIENT_ID={client_id} "
            f"PAYPAL_CLIENT_SECRET={client_secret} PAYPAL_WEBHOOK_ID={webhook_id} "
            f"PAYPAL_SUPPORTER_PLAN_ID={plan_id}",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop_here()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def start_in_thread(**state: Any) -> FakePayPal:
    """A started fake on a free port (tests)."""
    return FakePayPal(FakePayPalState(**state)).start()
