"""PayPal's REST API over httpx (the HTTP client the OAuth providers already use).

Why not the official `paypal-server-sdk`: it is synchronous (generated on apimatic-core and
`requests`), so every call would block the event loop or need a thread; the few calls billing
makes (OAuth client-credentials token, create/get/cancel subscription, verify-webhook-signature)
are plain JSON over HTTP. See docs/billing.md.

The access token (client credentials) is cached until a minute before PayPal says it expires;
a 401 drops it and the call is made once more with a fresh one.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from chatsvg.application.ports import BillingProviderError, CreatedSubscription
from chatsvg.domain.billing.events import parse_time
from chatsvg.domain.billing.subscriptions import RemoteSubscription, SubscriptionStatus

TOKEN_MARGIN_SECONDS = 60.0

# The transmission headers PayPal signs a webhook delivery with.
_SIGNATURE_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


def remote_subscription(body: dict[str, Any]) -> RemoteSubscription:
    billing = body.get("billing_info") if isinstance(body.get("billing_info"), dict) else {}
    assert isinstance(billing, dict)
    last_payment = (
        billing.get("last_payment") if isinstance(billing.get("last_payment"), dict) else {}
    )
    assert isinstance(last_payment, dict)
    subscriber = body.get("subscriber") if isinstance(body.get("subscriber"), dict) else {}
    assert isinstance(subscriber, dict)
    return RemoteSubscription(
        id=str(body.get("id", "")),
        status=SubscriptionStatus.parse(body.get("status")),
        plan_id=body.get("plan_id") if isinstance(body.get("plan_id"), str) else None,
        custom_id=body.get("custom_id") if isinstance(body.get("custom_id"), str) else None,
        start_time=parse_time(body.get("start_time")),
        status_update_time=parse_time(body.get("status_update_time")),
        next_billing_time=parse_time(billing.get("next_billing_time")),
        last_payment_time=parse_time(last_payment.get("time")),
        payer_id=subscriber.get("payer_id")
        if isinstance(subscriber.get("payer_id"), str)
        else None,
        raw=body,
    )


class PayPalClient:
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        webhook_id: str | None,
        timeout: float = 15.0,
        brand_name: str = "ChatSVG",
    ) -> None:
        self._base = base_url.rstrip("/")
        self._auth = (client_id, client_secret)
        self._webhook_id = webhook_id
        self._timeout = timeout
        self._brand = brand_name
        self._http: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock: asyncio.Lock | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self._base, timeout=self._timeout)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _access_token(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            try:
                response = await self._client().post(
                    "/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=self._auth,
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise BillingProviderError(f"token request failed: {exc!r}") from None
            if response.status_code != 200:
                raise BillingProviderError(f"token request answered {response.status_code}")
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 0) or 0)
            self._token_expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS)
            return self._token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        for attempt in (1, 2):
            token = await self._access_token()
            try:
                response = await self._client().request(
                    method,
                    path,
                    json=json_body,
                    content=content,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                    },
                )
            except httpx.HTTPError as exc:
                raise BillingProviderError(f"{method} {path} failed: {exc!r}") from None
            if response.status_code == 401 and attempt == 1:
                self._token = None  # revoked or expired early: one more try with a new token
                continue
            if response.status_code not in ok:
                raise BillingProviderError(
                    f"{method} {path} answered {response.status_code}: {response.text[:300]}"
                )
            return response
        raise BillingProviderError(f"{method} {path}: unauthorized")  # pragma: no cover

    async def create_subscription(
        self, *, plan_id: str, custom_id: str, return_url: str, cancel_url: str
    ) -> CreatedSubscription:
        response = await self._call(
            "POST",
            "/v1/billing/subscriptions",
            json_body={
                "plan_id": plan_id,
                "custom_id": custom_id,
                "application_context": {
                    "brand_name": self._brand,
                    "user_action": "SUBSCRIBE_NOW",
                    "shipping_preference": "NO_SHIPPING",
                    "return_url": return_url,
                    "cancel_url": cancel_url,
                },
            },
            ok=(200, 201),
        )
        body = response.json()
        approve = next(
            (
                link.get("href")
                for link in body.get("links", [])
                if isinstance(link, dict) and link.get("rel") == "approve"
            ),
            None,
        )
        return CreatedSubscription(str(body["id"]), str(body.get("status", "")), approve)

    async def get_subscription(self, subscription_id: str) -> RemoteSubscription:
        if not subscription_id or "/" in subscription_id or len(subscription_id) > 64:
            raise BillingProviderError("not a subscription id")
        response = await self._call("GET", f"/v1/billing/subscriptions/{subscription_id}")
        return remote_subscription(response.json())

    async def cancel_subscription(self, subscription_id: str, reason: str) -> None:
        await self._call(
            "POST",
            f"/v1/billing/subscriptions/{subscription_id}/cancel",
            json_body={"reason": reason[:128]},
            ok=(200, 204),
        )

    async def verify_webhook(self, headers: dict[str, str], body: bytes) -> bool:
        if not self._webhook_id:
            return False  # without the webhook's id nothing can be verified: refuse everything
        lowered = {k.lower(): v for k, v in headers.items()}
        fields = {name: lowered.get(header) for name, header in _SIGNATURE_HEADERS.items()}
        if not all(fields.values()):
            return False
        # The event goes back byte for byte as it came (re-serialising it could change what
        # PayPal checks the signature against).
        head = json.dumps({**fields, "webhook_id": self._webhook_id})
        request = head[:-1].encode() + b', "webhook_event": ' + body + b"}"
        response = await self._call(
            "POST", "/v1/notifications/verify-webhook-signature", content=request
        )
        return bool(response.json().get("verification_status") == "SUCCESS")
