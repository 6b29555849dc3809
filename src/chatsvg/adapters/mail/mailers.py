"""Mail: the SMTP and local-file Mailer adapters and the message templates.

- `SmtpMailer` sends through an SMTP server (aiosmtplib): STARTTLS, implicit TLS or plain, with
  optional login.
- `FileOutboxMailer` (local mode, or `CHATSVG_MAIL_BACKEND=files`) writes each message as a `.eml`
  file under `<data_dir>/outbox/`; `chatsvg mail list|show` reads them back (`LocalOutboxDirectory`).
- `DisabledMailer` (`CHATSVG_MAIL_BACKEND=none`) refuses every message; nothing delivers the
  outbox then (no `send_mail` task, no sweep), so mail stays unsent in the outbox table.
- `MailTemplateSet` renders the product's messages with `string.Template`: every value put into the
  HTML part goes through `html.escape`; nothing is interpolated unescaped.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from string import Template
from typing import Literal

import aiosmtplib

from chatsvg.application.ports import MailMessage

log = logging.getLogger(__name__)

TlsMode = Literal["starttls", "tls", "none"]
# Headers the adapter sets itself; a message's extra headers may not override them.
_OWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "reply-to", "cc", "bcc"})


def build_email(message: MailMessage, sender: str) -> EmailMessage:
    """A MIME message: plain text, plus an HTML alternative when there is one.

    Header values with line breaks are refused (ValueError) by the email package: no header injection.
    """
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "chatsvg.invalid"
    email["Message-ID"] = make_msgid(domain=domain)
    if message.reply_to:
        email["Reply-To"] = message.reply_to
    for name, value in message.headers.items():
        if name.lower() not in _OWN_HEADERS:
            email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpMailer:
    """Sends through an SMTP server. Raises on any failure; the outbox retries."""

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int | None = None,
        tls: TlsMode = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 30.0,
        validate_certs: bool = True,
    ) -> None:
        self.host = host
        self.port = port or {"starttls": 587, "tls": 465, "none": 25}[tls]
        self.tls = tls
        self.sender = sender
        self._username = username
        self._password = password
        self._timeout = timeout_seconds
        self._validate_certs = validate_certs

    async def send(self, message: MailMessage) -> None:
        await aiosmtplib.send(
            build_email(message, self.sender),
            hostname=self.host,
            port=self.port,
            username=self._username or None,
            password=self._password if self._username else None,
            use_tls=self.tls == "tls",
            # "starttls" insists on the upgrade (a server without it fails the send); "none" never asks.
            start_tls=self.tls == "starttls",
            timeout=self._timeout,
            validate_certs=self._validate_certs,
        )


class FileOutboxMailer:
    """Local mode: every message becomes a `.eml` file in `directory` (read with `chatsvg mail`)."""

    def __init__(self, directory: Path, *, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    async def send(self, message: MailMessage) -> None:
        data = bytes(build_email(message, self.sender))
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{secrets.token_hex(3)}.eml"
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, path)  # readers never see half a message
        return path


class MailDeliveryOff(RuntimeError):
    pass


class DisabledMailer:
    """`CHATSVG_MAIL_BACKEND=none`: mail is deliberately off. Nothing should call `send` (the
    outbox is not delivered then); if something does, it fails and the outbox keeps the mail."""

    async def send(self, message: MailMessage) -> None:
        raise MailDeliveryOff("mail delivery is off (CHATSVG_MAIL_BACKEND=none)")


@dataclass(frozen=True)
class StoredMail:
    number: int
    path: Path
    email: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.email.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.email.get("To", ""))

    @property
    def date(self) -> str:
        return str(self.email.get("Date", ""))

    def part(self, subtype: Literal["plain", "html"]) -> str | None:
        body = self.email.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            return None
        content: str = body.get_content()
        return content


class LocalOutboxDirectory:
    """The `.eml` files a FileOutboxMailer wrote, oldest first (numbered from 1)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def mails(self) -> list[StoredMail]:
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob("*.eml"))
        parser = BytesParser(policy=policy.default)
        found = []
        for number, path in enumerate(paths, start=1):
            with path.open("rb") as handle:
                email = parser.parse(handle)
            assert isinstance(email, EmailMessage)
            found.append(StoredMail(number, path, email))
        return found


# Templates. `$name` placeholders only; the HTML values are escaped by `_render_html`.
_RESET_SUBJECT = "Reset your $product password"
_RESET_TEXT = Template(
    """Hello$greeting,

Someone (we hope you) asked to reset the password of the $product account for $email.
Open this link to choose a new password. It works once, within $minutes minutes:

$link

If you did not ask for this, ignore this message: your password stays as it is.

-- $product
"""
)
_RESET_HTML = Template(
    """<!doctype html>
<html lang="en">
<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2937">
<p>Hello$greeting,</p>
<p>Someone (we hope you) asked to reset the password of the $product account for
<strong>$email</strong>. The link below works once, within $minutes minutes.</p>
<p><a href="$link" style="display: inline-block; padding: 10px 16px; background: #4f46e5;
color: #ffffff; text-decoration: none; border-radius: 6px">Choose a new password</a></p>
<p>Or paste this address into your browser:<br><span style="word-break: break-all">$link</span></p>
<p>If you did not ask for this, ignore this message: your password stays as it is.</p>
<p>&mdash; $product</p>
</body>
</html>
"""
)


def _render_html(template: Template, **values: str) -> str:
    return template.substitute({k: html.escape(v, quote=True) for k, v in values.items()})


def _one_line(value: str) -> str:
    return " ".join(value.split())


class MailTemplateSet:
    """The MailTemplates port: plain-text and HTML versions of each message."""

    def __init__(self, product: str = "ChatSVG") -> None:
        self.product = product

    def password_reset(
        self, *, to: str, name: str, link: str, expires_in_minutes: int
    ) -> MailMessage:
        name = _one_line(name)
        values = {
            "greeting": f" {name}" if name else "",
            "product": self.product,
            "email": to,
            "minutes": str(expires_in_minutes),
            "link": link,
        }
        return MailMessage(
            to=to,
            subject=Template(_RESET_SUBJECT).substitute(product=self.product),
            text=_RESET_TEXT.substitute(values),
            html=_render_html(_RESET_HTML, **values),
        )
