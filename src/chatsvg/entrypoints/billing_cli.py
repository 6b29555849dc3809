"""Billing on the command line:

- `chatsvg admin billing show EMAIL|USER_ID`: the plan, balance, subscriptions and events;
- `chatsvg admin billing replay EVENT_ID`: handle a recorded PayPal event again (its credits are
  still written at most once);
- `chatsvg dev fake-paypal`: the fake PayPal server (entrypoints/fake_paypal.py) for local runs.

admin.py adds the first two with `add_billing_commands(admin)`, cli.py the third with
`add_dev_command(sub)`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatsvg.entrypoints.containers import Container


def _run(work: Callable[[Container], Awaitable[int]]) -> int:
    from chatsvg.domain.errors import DomainError
    from chatsvg.entrypoints.containers import create_container
    from chatsvg.entrypoints.startup import prepare, reaching_database

    settings, accounts = prepare()

    async def main() -> int:
        container = create_container(settings, accounts, process="worker")
        try:
            return await work(container)
        except DomainError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 1
        finally:
            paypal = container.billing.paypal()
            if paypal is not None:
                await paypal.aclose()
            await container.infrastructure.database().dispose()

    with reaching_database(settings):
        return asyncio.run(main())


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


def _show(args: argparse.Namespace) -> int:
    async def work(container: Container) -> int:
        overview = await container.billing.admin().overview(args.user, limit=args.limit)
        user = overview.user
        print(f"{user.email} ({user.id}): plan {user.plan}, balance {overview.balance}")
        print(f"subscriptions: {len(overview.subscriptions)}")
        for s in overview.subscriptions:
            print(
                f"  {s.id}  {s.status.value:16}  plan {s.plan_id or '-'}  started "
                f"{_when(s.start_time)}  last payment {_when(s.last_payment_time)}  "
                f"status since {_when(s.status_update_time)}"
            )
        print(f"events: {len(overview.events)} (newest first)")
        for e in overview.events:
            state = f"done: {e.outcome}" if e.done else f"PENDING, {e.attempts} failed run(s)"
            print(f"  {e.id}  {_when(e.received_at)}  {e.event_type}  {state}")
            if e.last_error and not e.done:
                print(f"    last error: {e.last_error}")
        return 0

    return _run(work)


def _replay(args: argparse.Namespace) -> int:
    async def work(container: Container) -> int:
        event = await container.billing.admin().replay(args.event_id)
        if event.done:
            print(f"{event.id}: done: {event.outcome}")
            return 0
        print(f"{event.id}: failed again: {event.last_error}", file=sys.stderr)
        return 1

    return _run(work)


def add_billing_commands(admin: Any) -> None:
    """Register `billing` on the `chatsvg admin` subparsers."""
    billing = admin.add_parser(
        "billing", help="a user's plan, subscriptions and PayPal events; replay an event"
    ).add_subparsers(dest="billing_command", required=True, metavar="ACTION", help="show or replay")
    show = billing.add_parser("show", help="a user's plan, subscriptions and billing events")
    show.add_argument("user", help="the account's email address or id")
    show.add_argument("--limit", type=int, default=50, help="events to list (default: 50)")
    show.set_defaults(func=_show)
    replay = billing.add_parser(
        "replay", help="handle a recorded PayPal event again now (credits stay once-only)"
    )
    replay.add_argument("event_id", help="PayPal's event id (WH-...)")
    replay.set_defaults(func=_replay)


def _fake_paypal(args: argparse.Namespace) -> int:
    from chatsvg.entrypoints.fake_paypal import serve

    serve(
        host=args.host,
        port=args.port,
        webhook_url=args.webhook_url,
        client_id=args.client_id,
        client_secret=args.client_secret,
        webhook_id=args.webhook_id,
        plan_id=args.plan_id,
    )
    return 0


def add_dev_command(sub: Any) -> None:
    """Register `dev` (developer tools) on the `chatsvg` subparsers."""
    dev = sub.add_parser("dev", help="developer tools (a fake PayPal server)").add_subparsers(
        dest="dev_command", required=True, metavar="TOOL", help="fake-paypal"
    )
    fake = dev.add_parser(
        "fake-paypal",
        help="run a fake PayPal REST API (subscriptions, webhooks) for local billing",
        description="A fake of PayPal's REST API that signs and sends webhook events to "
        "--webhook-url. Point the API at it with the PAYPAL_* settings it prints (docs/billing.md).",
    )
    fake.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    fake.add_argument("--port", type=int, default=8089, help="port (default: 8089)")
    fake.add_argument(
        "--webhook-url",
        default="http://127.0.0.1:8000/api/paypal/webhook",
        help="where events are sent (default: the local API's webhook)",
    )
    fake.add_argument("--client-id", default="fake-client", help="accepted client id")
    fake.add_argument("--client-secret", default="fake-secret", help="accepted client secret")
    fake.add_argument("--webhook-id", default="WH-FAKE", help="the webhook id it signs for")
    fake.add_argument("--plan-id", default="P-SUPPORTER", help="the SUPPORTER plan's id")
    fake.set_defaults(func=_fake_paypal)
