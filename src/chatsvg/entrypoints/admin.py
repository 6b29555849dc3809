"""`chatsvg admin ...`: the operator's commands, on the same settings and adapters as the app.

Results go to stdout; a refusal (unknown user, not enough credits, ...) is one line on stderr and
exit code 1. `create-user` never takes the password on the command line (it would show in `ps` and
in the shell's history): it prompts for it, or reads it from stdin with `--password-stdin`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `chatsvg --help` stays quick
    from chatsvg.application.admin.service import AdminService
    from chatsvg.entrypoints.containers import Container


def _run(work: Callable[[Container, AdminService], Awaitable[int]]) -> int:
    from chatsvg.domain.errors import DomainError
    from chatsvg.entrypoints.containers import create_container
    from chatsvg.entrypoints.startup import prepare, reaching_database

    settings, accounts = prepare()

    async def main() -> int:
        # Like a worker: no sockets here; realtime updates go through Redis to the API processes.
        container = create_container(settings, accounts, process="worker")
        try:
            return await work(container, container.admin.service())
        except DomainError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 1
        finally:
            await container.infrastructure.database().dispose()

    with reaching_database(settings):
        return asyncio.run(main())


def _read_password(args: argparse.Namespace) -> str | None:
    """The new account's password: the first line of stdin with --password-stdin, else typed twice
    at a prompt. None (after saying why on stderr) when there is none to read."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            print("error: no password on stdin", file=sys.stderr)
            return None
        return password
    if not sys.stdin.isatty():
        print(
            "error: no terminal to ask for the password: pipe it in with --password-stdin",
            file=sys.stderr,
        )
        return None
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return password


def _create_user(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 1

    async def work(container: Container, admin: AdminService) -> int:
        name = args.name or args.email.partition("@")[0]
        user = await admin.create_user(email=args.email, password=password, name=name)
        print(f"created {user.email} ({user.id})")
        return 0

    return _run(work)


def _credits(args: argparse.Namespace, sign: int) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        balance = await admin.adjust_credits(email=args.email, delta=sign * args.amount)
        print(f"{args.email}: balance {balance}")
        return 0

    return _run(work)


def _stuck(args: argparse.Namespace) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        stuck = await admin.stuck_jobs(older_than=timedelta(seconds=args.older_than))
        for item in stuck:
            print(
                f"{item.job.id}  {item.job.status.value:8}  attempts={item.job.attempts}  {item.reason}"
            )
            if args.requeue:
                await admin.requeue(item.job.id)
                print("  requeued")
        print(f"{len(stuck)} stuck job(s)")
        return 0

    return _run(work)


def _revoke_sessions(args: argparse.Namespace) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        print(f"revoked {await admin.revoke_sessions(email=args.email)} session(s)")
        return 0

    return _run(work)


def _gc(args: argparse.Namespace) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        storage: Any = container.infrastructure.storage()
        inner = getattr(storage, "inner", storage)
        if not hasattr(inner, "keys"):
            print("error: this storage cannot list its objects", file=sys.stderr)
            return 1
        orphans = await admin.orphaned_keys(await inner.keys())
        for key in orphans:
            print(key)
            if args.delete:
                await storage.delete(key)
        print(f"{len(orphans)} orphaned artifact(s){' deleted' if args.delete else ''}")
        return 0

    return _run(work)


def _link(args: argparse.Namespace) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        # Not mailed: for local use (the address must be in ADMIN_EMAILS); works once, 5 minutes.
        print(await container.admin.access().issue_link(args.email))
        return 0

    return _run(work)


def add_admin_commands(sub: Any) -> None:
    admin = sub.add_parser("admin", help="operator commands").add_subparsers(
        dest="admin_command", required=True, metavar="ACTION", help="see ACTION --help"
    )

    create = admin.add_parser(
        "create-user",
        allow_abbrev=False,  # `--password` must not pass for `--password-stdin`
        help="create an account (the password is asked for, or read from stdin)",
        description="Create an account. The password is typed at a prompt, or with "
        "--password-stdin read from the first line of stdin, e.g. "
        '`echo "$PASSWORD" | chatsvg admin create-user --email ... --password-stdin`.',
    )
    create.add_argument("--email", required=True, help="the account's email address")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of prompting",
    )
    create.add_argument(
        "--name", default="", help="the display name (default: the email's part before the @)"
    )
    create.set_defaults(func=_create_user)

    grant = admin.add_parser("grant-credits", help="add credits (a ledger entry)")
    grant.add_argument("--email", required=True, help="the account's email address")
    grant.add_argument("amount", type=int, help="credits to add")
    grant.set_defaults(func=lambda a: _credits(a, 1))

    revoke = admin.add_parser(
        "revoke-credits", help="remove credits (a ledger entry; never below zero)"
    )
    revoke.add_argument("--email", required=True, help="the account's email address")
    revoke.add_argument("amount", type=int, help="credits to remove")
    revoke.set_defaults(func=lambda a: _credits(a, -1))

    stuck = admin.add_parser(
        "stuck-jobs", help="list (and optionally requeue) jobs nobody is working on"
    )
    stuck.add_argument(
        "--older-than",
        type=float,
        default=120,
        help="seconds a QUEUED job has waited before it counts as stuck (default: 120)",
    )
    stuck.add_argument(
        "--requeue", action="store_true", help="put the stuck jobs back in the queue"
    )
    stuck.set_defaults(func=_stuck)

    from chatsvg.entrypoints.billing_cli import add_billing_commands

    add_billing_commands(admin)  # `chatsvg admin billing show|replay`

    sessions = admin.add_parser("revoke-sessions", help="sign a user out everywhere")
    sessions.add_argument("--email", required=True, help="the account's email address")
    sessions.set_defaults(func=_revoke_sessions)

    gc = admin.add_parser(
        "gc", help="find (and optionally delete) stored artifacts no generation refers to"
    )
    gc.add_argument("--delete", action="store_true", help="delete them (default: only list them)")
    gc.set_defaults(func=_gc)

    link = admin.add_parser(
        "link",
        help="print a sign-in link to the admin page (single use, 5 minutes)",
        description="Print a sign-in link to the admin page for EMAIL, which must be in "
        "ADMIN_EMAILS; it is not mailed. Open it in the browser that shows the web app.",
    )
    link.add_argument("email", help="an address of ADMIN_EMAILS")
    link.set_defaults(func=_link)
