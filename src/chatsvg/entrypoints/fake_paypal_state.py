"""The fake PayPal's state: subscriptions, events and the signing of deliveries, and the moves a
subscription makes at PayPal (approval with the first payment, a renewal, a status change), each
with the events PayPal would send. The HTTP server is `fake_paypal.py`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(raw: Any) -> datetime:
    if isinstance(raw, str) and raw:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return now()


def add_month(value: datetime) -> datetime:
    year, month = divmod(value.month, 12)
    try:
        return value.replace(year=value.year + year, month=month + 1)
    except ValueError:
        return value.replace(year=value.year + year, month=month + 1, day=28)


def canonical(event: Any) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class FakePayPalState:
    client_id: str = "fake-client"
    client_secret: str = "fake-secret"
    webhook_id: str = "WH-FAKE"
    webhook_url: str | None = None
    plan_id: str = "P-SUPPORTER"
    public_url: str = "http://127.0.0.1:8089"
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0
    tokens: set[str] = field(default_factory=set)
    fail_next_gets: int = 0  # answer this many subscription reads with a 500 (fault tests)

    def sign(self, event: dict[str, Any], transmission_id: str, when: str) -> str:
        crc = zlib.crc32(canonical(event))
        message = f"{transmission_id}|{when}|{self.webhook_id}|{crc}".encode()
        return base64.b64encode(
            hmac.new(self.signing_key, message, hashlib.sha256).digest()
        ).decode()

    def headers_for(self, event: dict[str, Any], *, forge: bool = False) -> dict[str, str]:
        transmission_id = str(uuid.uuid4())
        when = iso(now())
        signature = self.sign(event, transmission_id, when)
        if forge:
            signature = base64.b64encode(secrets.token_bytes(32)).decode()
        return {
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.public_url}/fake/cert.pem",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": when,
            "Content-Type": "application/json",
        }

    def make_event(
        self, event_type: str, resource: dict[str, Any], event_id: str | None = None
    ) -> dict[str, Any]:
        event = {
            "id": event_id or f"WH-{uuid.uuid4().hex[:17].upper()}",
            "event_version": "1.0",
            "create_time": iso(now()),
            "resource_type": "sale" if event_type.startswith("PAYMENT.") else "subscription",
            "event_type": event_type,
            "summary": event_type,
            "resource": resource,
        }
        self.events[str(event["id"])] = {"event": event, "deliveries": []}
        return event

    def _sale(self, sub: dict[str, Any], when: datetime) -> dict[str, Any]:
        return {
            "id": f"SALE-{uuid.uuid4().hex[:12].upper()}",
            "state": "completed",
            "amount": {"total": "5.00", "currency": "USD"},
            "billing_agreement_id": sub["id"],
            "create_time": iso(when),
            "update_time": iso(when),
        }

    def activate(self, sub: dict[str, Any], when: datetime) -> list[dict[str, Any]]:
        """The buyer approved: ACTIVE with the first payment at once, and its two events."""
        sub["status"] = "ACTIVE"
        sub["start_time"] = iso(when)
        sub["status_update_time"] = iso(when)
        sub["billing_info"] = {
            "last_payment": {
                "amount": {"currency_code": "USD", "value": "5.00"},
                "time": iso(when),
            },
            "next_billing_time": iso(add_month(when)),
            "cycle_executions": [{"tenure_type": "REGULAR", "sequence": 1, "cycles_completed": 1}],
        }
        sub["subscriber"] = {
            "payer_id": "PAYER" + sub["id"][-6:],
            "email_address": "buyer@example.com",
        }
        return [
            self.make_event("BILLING.SUBSCRIPTION.ACTIVATED", dict(sub)),
            self.make_event("PAYMENT.SALE.COMPLETED", self._sale(sub, when)),
        ]

    def pay(self, sub: dict[str, Any], when: datetime) -> list[dict[str, Any]]:
        info = sub.setdefault("billing_info", {})
        if sub["status"] == "ACTIVE":  # PayPal charges only live subscriptions; tests may force
            info["last_payment"] = {
                "amount": {"currency_code": "USD", "value": "5.00"},
                "time": iso(when),
            }
            info["next_billing_time"] = iso(add_month(when))
        return [self.make_event("PAYMENT.SALE.COMPLETED", self._sale(sub, when))]

    def move(self, sub: dict[str, Any], status: str, when: datetime) -> list[dict[str, Any]]:
        sub["status"] = status
        sub["status_update_time"] = iso(when)
        if status != "ACTIVE":
            sub.get("billing_info", {}).pop("next_billing_time", None)
        names = {
            "CANCELLED": "BILLING.SUBSCRIPTION.CANCELLED",
            "SUSPENDED": "BILLING.SUBSCRIPTION.SUSPENDED",
            "EXPIRED": "BILLING.SUBSCRIPTION.EXPIRED",
            "ACTIVE": "BILLING.SUBSCRIPTION.RE-ACTIVATED",
        }
        return [self.make_event(names[status], dict(sub))] if status in names else []
