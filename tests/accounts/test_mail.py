"""The mail adapters: MIME building, templates, SMTP against a real local server, the file outbox
and `chatsvg mail`, and the background delivery loop."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from chatsvg.adapters.mail.mailers import (
    FileOutboxMailer,
    LocalOutboxDirectory,
    MailTemplateSet,
    OutboxDeliveryLoop,
    SmtpMailer,
    build_email,
)
from chatsvg.adapters.memory.store import MemoryStore, MemoryUnitOfWork
from chatsvg.application.accounts.ports import MailStatus
from chatsvg.application.mail.outbox import MailOutbox
from chatsvg.application.ports import MailMessage
from chatsvg.entrypoints.mail_cli import add_mail_command
from tests.accounts.conftest import AnyAccountRecords, RecordingMailer, SmtpServer

SENDER = "ChatSVG <no-reply@chatsvg.example>"


def reset_message(link: str = "https://app.example/reset-password?token=abc") -> MailMessage:
    return MailTemplateSet().password_reset(
        to="ada@example.com", name="Ada", link=link, expires_in_minutes=60
    )


def test_a_message_has_a_text_and_an_html_part_and_the_right_headers() -> None:
    message = MailMessage(
        to="ada@example.com",
        subject="Hello",
        text="plain words",
        html="<p>html words</p>",
        reply_to="help@example.com",
        headers={"X-ChatSVG-Purpose": "test", "From": "spoof@example.com"},
    )
    email = build_email(message, SENDER)
    assert email["From"] == SENDER and email["To"] == "ada@example.com"
    assert email["Reply-To"] == "help@example.com" and email["X-ChatSVG-Purpose"] == "test"
    assert email["Message-ID"].endswith("@chatsvg.example>")
    assert email.get_body("plain").get_content().strip() == "plain words"
    assert "html words" in email.get_body(("html",)).get_content()


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError):
        build_email(MailMessage("ada@example.com", "Hi\r\nBcc: victim@example.com", "t"), SENDER)


def test_the_reset_template_escapes_every_value_in_html() -> None:
    hostile = 'https://app.example/reset?token=a"><script>alert(1)</script>'
    message = MailTemplateSet().password_reset(
        to="ada@example.com", name="<b>Ada</b>", link=hostile, expires_in_minutes=60
    )
    assert message.html is not None
    assert "<script>" not in message.html and "<b>Ada" not in message.html
    assert "&lt;script&gt;" in message.html and "&quot;&gt;" in message.html
    assert hostile in message.text and "60 minutes" in message.text
    assert message.subject == "Reset your ChatSVG password"


async def test_smtp_mailer_delivers_to_a_real_smtp_server(smtp: SmtpServer) -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=smtp.port, tls="none", sender=SENDER)
    await mailer.send(reset_message())
    [received] = await smtp.inbox.wait(1)
    assert received["To"] == "ada@example.com" and received["From"] == SENDER
    assert "token=abc" in received.get_body(("plain",)).get_content()
    assert smtp.inbox.envelopes == [("no-reply@chatsvg.example", ["ada@example.com"])]


async def test_smtp_mailer_with_starttls_refuses_a_server_without_it(smtp: SmtpServer) -> None:
    mailer = SmtpMailer(
        host="127.0.0.1", port=smtp.port, tls="starttls", sender=SENDER, timeout_seconds=5
    )
    with pytest.raises(Exception):
        await mailer.send(reset_message())
    assert smtp.inbox.messages == []


async def test_smtp_mailer_raises_when_the_server_is_down(smtp_down: SmtpServer) -> None:
    mailer = SmtpMailer(
        host="127.0.0.1", port=smtp_down.port, tls="none", sender=SENDER, timeout_seconds=5
    )
    with pytest.raises(Exception):
        await mailer.send(reset_message())


async def test_file_outbox_and_the_mail_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "outbox"
    mailer = FileOutboxMailer(directory, sender=SENDER)
    await mailer.send(MailMessage("first@example.com", "First", "one"))
    await mailer.send(reset_message())
    mails = LocalOutboxDirectory(directory).mails()
    assert [m.subject for m in mails] == ["First", "Reset your ChatSVG password"]
    assert list(directory.glob("*.partial")) == []

    parser = argparse.ArgumentParser(prog="chatsvg")
    add_mail_command(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(["mail", "--dir", str(directory), *argv])
        code = args.func(args)
        return code, capsys.readouterr().out

    code, out = run("list")
    assert code == 0 and "1" in out and "first@example.com" in out and "Reset your" in out
    code, out = run("show", "latest")
    assert code == 0 and "https://app.example/reset-password?token=abc" in out
    assert "Subject: Reset your ChatSVG password" in out and "<p>" not in out
    code, out = run("show", "1")
    assert code == 0 and "one" in out
    code, out = run("show", "2", "--html")
    assert code == 0 and "<a href=" in out
    code, out = run("show", "9")
    assert code == 1
    empty = tmp_path / "nothing"
    args = parser.parse_args(["mail", "--dir", str(empty), "list"])
    assert args.func(args) == 0 and "no mail" in capsys.readouterr().out


async def test_the_delivery_loop_sends_promptly_when_nudged_and_stops() -> None:
    store = MemoryStore()
    mailer = RecordingMailer()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(store)

    from chatsvg.adapters.clock import SystemClock

    outbox = MailOutbox(uow=uow, records=AnyAccountRecords(), mailer=mailer, clock=SystemClock())
    loop = OutboxDeliveryLoop(outbox, poll_seconds=30)
    await loop.start()
    try:
        await outbox.enqueue(MailMessage("ada@example.com", "Hi", "t"), purpose="test")
        for _ in range(100):
            if mailer.sent:
                break
            await asyncio.sleep(0.02)
        assert [m.to for m in mailer.sent] == ["ada@example.com"]
        [mail] = await outbox.recent()
        assert mail.status == MailStatus.SENT
    finally:
        await loop.stop()
    await loop.stop()  # idempotent
