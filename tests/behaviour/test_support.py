"""Support messages: validated, the account's email used when signed in, every user text escaped."""

from __future__ import annotations

import pytest

from chatsvg.application.ports import MailMessage
from chatsvg.application.support.service import SupportRequest, SupportService
from chatsvg.domain.errors import ValidationFailed
from tests.conftest import Stack


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[MailMessage, str]] = []

    async def enqueue(self, message: MailMessage, *, purpose: str = "support") -> str:
        self.sent.append((message, purpose))
        return str(len(self.sent))


def request(**changes: object) -> SupportRequest:
    values: dict[str, object] = {
        "kind": "bug",
        "subject": "It <b>broke</b>",
        "message": "<script>alert(1)</script>\nsecond line",
        "email": "visitor@example.com",
        "context_url": "https://app.example.com/x?<img src=x onerror=alert(1)>",
        "user_agent": "Mozilla",
    }
    values.update(changes)
    return SupportRequest(**values)  # type: ignore[arg-type]


async def test_a_signed_out_message_is_mailed_escaped_with_reply_to_the_sender(
    stack: Stack,
) -> None:
    outbox = Outbox()
    service = SupportService(uow=stack.uow, outbox=outbox, inbox="help@chatsvg.test")
    await service.contact(request(), user_id=None)
    ((mail, purpose),) = outbox.sent
    assert (mail.to, mail.reply_to, purpose) == (
        "help@chatsvg.test",
        "visitor@example.com",
        "support",
    )
    assert mail.subject == "[ChatSVG bug] It <b>broke</b>"  # a header, never rendered as HTML
    assert mail.html is not None
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "<img" not in mail.html and "onerror=alert(1)&gt;" in mail.html
    assert "<script>alert(1)</script>" in mail.text  # the plain part keeps the words as typed


async def test_signed_in_users_are_answered_at_their_account_email(stack: Stack) -> None:
    user = await stack.user("member@example.com")
    outbox = Outbox()
    service = SupportService(uow=stack.uow, outbox=outbox, inbox="help@chatsvg.test")
    await service.contact(request(email="someone-else@example.com"), user_id=user)
    assert outbox.sent[0][0].reply_to == "member@example.com"


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "spam"},
        {"subject": ""},
        {"subject": "x" * 201},
        {"message": "   "},
        {"message": "m" * 8001},
        {"email": None},
        {"email": "not-an-email"},
    ],
)
async def test_invalid_messages_are_refused(stack: Stack, changes: dict[str, object]) -> None:
    service = SupportService(uow=stack.uow, outbox=Outbox(), inbox="help@chatsvg.test")
    with pytest.raises(ValidationFailed):
        await service.contact(request(**changes), user_id=None)
