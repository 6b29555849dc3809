"""Support messages from the web client's contact form, mailed to the support inbox."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Protocol

from chatsvg.application.ports import MailMessage, UnitOfWorkFactory
from chatsvg.domain.accounts.users import normalise_email
from chatsvg.domain.errors import ValidationFailed

KINDS = ("contact", "bug", "idea")
SUBJECT_MAX = 200
MESSAGE_MAX = 8000


class MailQueue(Protocol):
    async def enqueue(self, message: MailMessage, *, purpose: str = "support") -> str: ...


@dataclass(frozen=True)
class SupportRequest:
    kind: str
    subject: str
    message: str
    email: str | None
    context_url: str | None
    user_agent: str | None


def _field(value: str, name: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise ValidationFailed(
            f"{name} must be 1 to {limit} characters long.",
            details=[{"field": name, "message": f"1-{limit} characters"}],
        )
    return text


class SupportService:
    def __init__(self, *, uow: UnitOfWorkFactory, outbox: MailQueue, inbox: str) -> None:
        self._uow = uow
        self._outbox = outbox
        self._inbox = inbox

    async def contact(self, request: SupportRequest, *, user_id: str | None) -> None:
        if request.kind not in KINDS:
            raise ValidationFailed(
                "type must be contact, bug or idea.",
                details=[{"field": "type", "message": "invalid"}],
            )
        subject = " ".join(_field(request.subject, "subject", SUBJECT_MAX).split())
        message = _field(request.message, "message", MESSAGE_MAX)
        sender: str | None = None
        account = "signed out"
        if user_id is not None:
            async with self._uow() as uow:
                user = await uow.users.get(user_id)
            if user is not None:
                sender, account = user.email, f"user {user.id}"
        if sender is None:
            if not request.email:
                raise ValidationFailed(
                    "Tell us your email so we can answer.",
                    details=[{"field": "email", "message": "required"}],
                )
            sender = normalise_email(request.email)
        context = [
            ("Type", request.kind),
            ("From", sender),
            ("Account", account),
            ("Page", (request.context_url or "")[:500]),
            ("Browser", (request.user_agent or "")[:300]),
        ]
        text = "\n".join(f"{k}: {v}" for k, v in context) + "\n\n" + message + "\n"
        # Everything the sender typed is escaped: the inbox renders HTML, the sender is untrusted.
        rows = "".join(
            f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in context
        )
        body = html.escape(message).replace("\n", "<br>\n")
        markup = f"<table>{rows}</table><hr><p>{body}</p>"
        await self._outbox.enqueue(
            MailMessage(
                to=self._inbox,
                subject=f"[ChatSVG {request.kind}] {subject}",
                text=text,
                html=markup,
                reply_to=sender,
            ),
            purpose="support",
        )
