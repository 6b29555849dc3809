"""The mail adapters: MIME building, templates, SMTP against a real local server, the file outbox
and `chatsvg mail`, and delivery as the `send_mail` task with the outbox's sweep."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import pytest

from chatsvg.adapters.mail.mailers import (
    FileOutboxMailer,
    LocalOutboxDirectory,
    MailTemplateSet,
    SmtpMailer,
    build_email,
)
from chatsvg.adapters.memory.store import MemoryStore, MemoryUnitOfWork
from chatsvg.adapters.queue.inprocess import InProcessTaskQueue
from chatsvg.application.accounts.ports import MailStatus
from chatsvg.application.mail.outbox import SEND_MAIL, DeliveryPolicy, DeliveryRound, MailOutbox
from chatsvg.application.ports import MailMessage
from chatsvg.application.tasks import TaskRegistry
from chatsvg.entrypoints.mail_cli import add_mail_command
from tests.accounts.conftest import RecordingMailer, SmtpServer
from tests.support.fakes import RecordingQueue

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


def memory_outbox(mailer: RecordingMailer, **options: Any) -> MailOutbox:
    from chatsvg.adapters.clock import SystemClock

    store = MemoryStore()

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(store)

    return MailOutbox(uow=uow, mailer=mailer, clock=SystemClock(), **options)


def mail(n: int) -> MailMessage:
    return MailMessage(f"user{n}@example.com", "Hi", "t")


async def test_a_recorded_mail_is_sent_at_once_by_its_send_mail_task() -> None:
    mailer = RecordingMailer()
    queue = InProcessTaskQueue(concurrency=4)
    outbox = memory_outbox(mailer, tasks=queue)
    tasks = TaskRegistry()
    tasks.register(SEND_MAIL, outbox.send_task, log_key="mail_id")
    queue.start(tasks)
    try:
        mail_id = await outbox.enqueue(MailMessage("ada@example.com", "Hi", "t"), purpose="test")
        await queue.join()
        assert [m.to for m in mailer.sent] == ["ada@example.com"]
        sent = await outbox.get(mail_id)
        assert sent is not None and sent.status == MailStatus.SENT
    finally:
        await queue.stop()


async def test_one_wake_up_sends_batch_after_batch() -> None:
    mailer = RecordingMailer()
    recorded = RecordingQueue()
    outbox = memory_outbox(mailer, tasks=recorded, policy=DeliveryPolicy(batch_size=2))
    for n in range(5):
        await outbox.enqueue(mail(n), purpose="test")
    assert [task for task, _, _ in recorded.sent] == [SEND_MAIL] * 5
    # A full batch asks for another run at once; the registry enqueues it.
    tasks = TaskRegistry()
    tasks.register(SEND_MAIL, outbox.send_task)
    recorded.sent.clear()
    await tasks.run(SEND_MAIL, "", requeue=recorded)
    assert len(mailer.sent) == 2 and [(t, d) for t, _, d in recorded.sent] == [(SEND_MAIL, 0.0)]
    await tasks.run(SEND_MAIL, "", requeue=recorded)
    await tasks.run(SEND_MAIL, "", requeue=recorded)
    assert len(mailer.sent) == 5
    assert len(recorded.sent) == 2, "the last batch was not full: no further run"


async def test_the_sweep_sends_what_no_task_woke() -> None:
    mailer = RecordingMailer()
    down = RecordingQueue(fail=True)
    outbox = memory_outbox(mailer, tasks=down, policy=DeliveryPolicy(batch_size=2))
    for n in range(5):
        await outbox.enqueue(mail(n), purpose="test")  # recorded; the wake-up is lost
    assert mailer.sent == [] and down.sent == []
    await outbox.sweep()
    assert sorted(m.to for m in mailer.sent) == [f"user{n}@example.com" for n in range(5)]
    assert {m.status for m in await outbox.recent()} == {MailStatus.SENT}


async def test_a_burst_of_wake_ups_is_one_delivery_at_a_time_and_sends_each_mail_once() -> None:
    mailer = RecordingMailer()
    outbox = memory_outbox(mailer)
    rounds = running = most = 0
    deliver_due = outbox.deliver_due

    async def counted() -> DeliveryRound:
        nonlocal rounds, running, most
        rounds += 1
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0)  # let the other wake-ups arrive meanwhile
            return await deliver_due()
        finally:
            running -= 1

    outbox.deliver_due = counted  # type: ignore[method-assign]
    for n in range(3):
        await outbox.enqueue(mail(n), purpose="test")
    await asyncio.gather(*(outbox.send_task(str(n)) for n in range(10)))
    assert most == 1, "deliveries never overlap"
    assert rounds == 2, "one delivery, and one more for what arrived while it ran"
    assert len(mailer.sent) == 3
