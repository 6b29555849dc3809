"""Request bodies (msgspec Structs, camelCase, unknown members ignored) and the JSON shapes of API.md.

The response shapes are Structs too, so that the OpenAPI document describes every answer exactly
as it is sent: camelCase members, every member present (`null` when it has no value), the only
exception being `Generation.svg`, left out (UNSET) where API.md says the answer has no SVG."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from chatsvg.application.accounts.auth import Account, SessionView
from chatsvg.application.notifications.events import notification_payload
from chatsvg.application.wire import timestamp as timestamp  # controllers use it too
from chatsvg.domain.credits.ledger import LedgerEntry
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.notifications.notifications import Notification as DomainNotification


class Body(msgspec.Struct, rename="camel", kw_only=True):
    pass


class RegisterBody(Body):
    email: str
    password: str
    name: str = ""
    agreed_to_terms: bool = False


class LoginBody(Body):
    email: str
    password: str
    remember_me: bool = False


class ProfileBody(Body):
    name: str | None = None


class PasswordBody(Body):
    current_password: str
    new_password: str


class DeleteAccountBody(Body):
    password: str


class ForgotPasswordBody(Body):
    email: str


class ResetPasswordBody(Body):
    token: str
    new_password: str


class PrivacyBody(Body):
    privacy: bool


class SupportBody(Body):
    type: str
    subject: str
    message: str
    email: str | None = None
    context_url: str | None = None
    user_agent: str | None = None


# Times are sent as RFC 3339 strings in UTC with milliseconds ("2025-01-31T12:00:00.000Z"), on
# HTTP and sockets alike: see application/wire.py.
Timestamp = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"description": "RFC 3339, UTC", "extra": {"format": "date-time"}}
    ),
]
Cursor = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"description": "Pass as `cursor` for the next page; null at the end."}
    ),
]


class Answer(msgspec.Struct, rename="camel", kw_only=True):
    """A JSON answer. Fields have no defaults: every member is sent, `null` when empty."""


class CsrfToken(Answer):
    csrf_token: str


class User(Answer):
    id: str
    email: str
    name: str
    avatar: str | None
    credits: int
    plan: str
    created_at: Timestamp


class UserEnvelope(Answer):
    user: User


class Session(Answer):
    id: str
    created_at: Timestamp
    last_used_at: Timestamp
    user_agent: str | None
    ip_address: str | None
    current: bool


class SessionList(Answer):
    sessions: list[Session]


class AuthOptions(Answer):
    email_auth_enabled: bool
    oauth_providers: list[str]


class Ok(Answer):
    ok: bool


class OkMessage(Answer):
    ok: bool
    message: str


class PublicGeneration(Answer):
    id: str
    prompt: str
    style: str
    model: str
    created_at: Timestamp
    svg_url: str


class PublicGallery(Answer):
    public_generations: list[PublicGeneration]
    next_cursor: Cursor | None


class DownloadLink(Answer):
    download_url: str
    expires_at: Timestamp


class SvgSource(Answer):
    id: str
    svg: str


class LibraryItem(Answer):
    id: str
    prompt: str
    style: str
    model: str
    privacy: bool
    size_bytes: int
    created_at: Timestamp
    svg_url: str
    parent_id: str | None


class LibraryPage(Answer):
    generations: list[LibraryItem]
    next_cursor: Cursor | None


class Balance(Answer):
    balance: int


class LedgerItem(Answer):
    id: str
    delta: int
    reason: str
    job_id: str | None
    created_at: Timestamp


class LedgerPage(Answer):
    items: list[LedgerItem]
    next_cursor: Cursor | None


class Notification(Answer):
    id: str
    type: str
    title: str
    message: str
    data: dict[str, Any]
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationPage(Answer):
    notifications: list[Notification]
    next_cursor: Cursor | None


class Badge(Answer):
    unread_count: int


class Liveness(Answer):
    status: str


class Readiness(Answer):
    status: str
    checks: dict[str, str]


def user_json(account: Account) -> User:
    user = account.user
    return User(
        id=user.id,
        email=user.email,
        name=user.name or "",
        avatar=user.avatar,
        credits=account.credits,
        plan=user.plan or "FREE",
        created_at=timestamp(user.created_at),
    )


def library_item_json(generation: SvgGeneration, svg_url: str) -> LibraryItem:
    return LibraryItem(
        id=generation.id,
        prompt=generation.prompt,
        style=generation.style,
        model=generation.model,
        privacy=generation.privacy,
        size_bytes=generation.size_bytes,
        created_at=timestamp(generation.created_at),
        svg_url=svg_url,
        parent_id=generation.parent_id,
    )


def public_item_json(generation: SvgGeneration, svg_url: str) -> PublicGeneration:
    return PublicGeneration(
        id=generation.id,
        prompt=generation.prompt,
        style=generation.style,
        model=generation.model,
        created_at=timestamp(generation.created_at),
        svg_url=svg_url,
    )


def ledger_json(entry: LedgerEntry) -> LedgerItem:
    return LedgerItem(
        id=entry.id,
        delta=entry.delta,
        reason=entry.reason,
        # A plan's credits keep a once-key where a job's entries keep the job: not a job id.
        job_id=None if entry.reason.startswith("PLAN_") else entry.job_id,
        created_at=timestamp(entry.created_at),
    )


def session_json(view: SessionView) -> Session:
    return Session(
        id=view.id,
        created_at=timestamp(view.created_at),
        last_used_at=timestamp(view.last_used_at),
        user_agent=view.user_agent,
        ip_address=view.ip_address,
        current=view.current,
    )


def notification_json(notification: DomainNotification, seen_at: datetime | None) -> Notification:
    """Filled from the socket event's payload, so `notification:new` and the HTTP item agree."""
    return msgspec.convert(notification_payload(notification, seen_at), Notification)
