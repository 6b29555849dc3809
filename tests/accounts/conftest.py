"""Fixtures of the accounts tests: the use cases on every storage adapter set, a real SMTP server,
the fake OAuth provider, and live ChatSVG servers configured through the CHATSVG_* environment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dependency_injector import providers

from chatsvg.application.accounts.oauth import OAuthSignIn
from chatsvg.application.accounts.ports import OAuthFailed, OAuthIdentity
from chatsvg.application.accounts.recovery import PasswordRecovery
from chatsvg.application.mail.outbox import MailOutbox
from chatsvg.application.ports import MailMessage, UnitOfWorkFactory
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import Settings, load_settings
from tests.accounts.fake_oauth import FakeOAuthProvider
from tests.conftest import POLICIES, Stack, build_stack
from tests.support.live import LiveServer, free_port, start_server


class RecordingMailer:
    """A Mailer that keeps what it sends, and fails while `failing` is set."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []
        self.failing: Exception | None = None

    async def send(self, message: MailMessage) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append(message)


class ScriptedProvider:
    """An OAuthProvider (the port) answering the identity it is given, for use-case tests."""

    def __init__(self, name: str = "google") -> None:
        self.name = name
        self.identity: OAuthIdentity | OAuthFailed = OAuthIdentity(
            name, "sub-1", "grace@example.com", True, "Grace Hopper", None
        )
        self.calls: list[dict[str, str]] = []

    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        return f"https://provider.example/authorize?state={state}&nonce={nonce}"

    async def identify(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> OAuthIdentity:
        self.calls.append({"code": code, "verifier": code_verifier, "nonce": nonce})
        if isinstance(self.identity, OAuthFailed):
            raise self.identity
        return self.identity

    async def aclose(self) -> None:
        return None


FORGOT_LIMIT = POLICIES["forgot-password"].limit


@dataclass
class AccountsStack:
    base: Stack
    mailer: RecordingMailer
    outbox: MailOutbox
    recovery: PasswordRecovery
    provider: ScriptedProvider
    oauth: OAuthSignIn
    nudges: list[int] = field(default_factory=list)

    async def reset_link_token(self) -> str:
        """Deliver the outbox and return the token of the newest reset mail."""
        await self.outbox.deliver_due()
        text = self.mailer.sent[-1].text
        return text.split("token=", 1)[1].split()[0]


def build_accounts_stack(uow: UnitOfWorkFactory) -> AccountsStack:
    """The base stack's container, with a recording mailer and a scripted OAuth provider."""
    base = build_stack(uow)
    mailer = RecordingMailer()
    provider = ScriptedProvider()
    base.container.mail.mailer.override(providers.Object(mailer))
    base.container.accounts.oauth_providers.override(providers.Object([provider]))
    outbox = base.container.mail.outbox()
    stack = AccountsStack(
        base,
        mailer,
        outbox,
        base.container.accounts.recovery(),
        provider,
        base.container.accounts.oauth(),
    )
    outbox.on_enqueued(lambda: stack.nudges.append(1))
    return stack


@pytest.fixture
def accounts(uow: UnitOfWorkFactory) -> AccountsStack:
    return build_accounts_stack(uow)


# -- a real SMTP server ---------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    async def wait(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} mail(s) expected, {len(self.messages)} arrived")
            await asyncio.sleep(0.05)
        return self.messages


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); call .start() (done here) / .stop() freely."""
    server = SmtpServer(free_port(), Inbox())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A port with no SMTP server behind it yet; the test starts it when it wants."""
    server = SmtpServer(free_port(), Inbox())
    yield server
    server.stop()


# -- the fake OAuth provider ----------------------------------------------------------------


@pytest.fixture
async def fake_oauth() -> AsyncIterator[FakeOAuthProvider]:
    provider = FakeOAuthProvider()
    await provider.start()
    yield provider
    await provider.stop()


# -- live servers ---------------------------------------------------------------------------

# Cheap password hashing and roomy limits, as in tests/e2e (the accounts env is set per server).
LOCAL = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 1024,
    "rate_register": "1000/60",
    "reaper_interval_seconds": 0.5,
}


def local_settings(data_dir: Any, **overrides: Any) -> Settings:
    return load_settings({}, **{**LOCAL, "data_dir": str(data_dir), **overrides})


@pytest.fixture
def accounts_server(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., LiveServer]]:
    """`make(env={...}, **settings_overrides)`: a live server whose accounts settings come from `env`."""
    for name in AccountsSettings.__struct_fields__:
        monkeypatch.delenv(f"CHATSVG_{name.upper()}", raising=False)
    started: list[LiveServer] = []

    def make(env: dict[str, str] | None = None, **overrides: Any) -> LiveServer:
        values = {"CHATSVG_MAIL_POLL_SECONDS": "0.1", **(env or {})}
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        port = free_port()
        settings = local_settings(
            tmp_path / f"s{len(started)}" / "data",
            public_url=f"http://127.0.0.1:{port}",
            **overrides,
        )
        live = start_server(settings, port)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()
