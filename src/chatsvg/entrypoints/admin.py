"""`chatsvg admin ...`: the operator's commands, on the same settings and adapters as the app."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from chatsvg.application.admin import AdminService
from chatsvg.domain.errors import DomainError
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.settings import load_settings


def _service(container: Container) -> AdminService:
    return AdminService(
        uow=container.uow(),
        auth=container.auth_service(),
        hasher=container.hasher(),
        queue=container.queue(),
        realtime=container.realtime(),
        clock=container.clock(),
    )


def _run(work: Callable[[Container, AdminService], Awaitable[int]]) -> int:
    async def main() -> int:
        container = create_container(load_settings(), worker_process=True)
        try:
            return await work(container, _service(container))
        except DomainError as error:
            print(f"error: {error.message}")
            return 1
        finally:
            await container.database().dispose()

    return asyncio.run(main())


def _create_user(args: argparse.Namespace) -> int:
    async def work(container: Container, admin: AdminService) -> int:
        user = await admin.create_user(email=args.email, password=args.password, name=args.name)
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
        storage: Any = container.storage()
        inner = getattr(storage, "inner", storage)
        if not hasattr(inner, "keys"):
            print("this storage cannot list its objects")
            return 1
        orphans = await admin.orphaned_keys(await inner.keys())
        for key in orphans:
            print(key)
            if args.delete:
                await storage.delete(key)
        print(f"{len(orphans)} orphaned artifact(s){' deleted' if args.delete else ''}")
        return 0

    return _run(work)


def add_admin_commands(sub: Any) -> None:
    admin = sub.add_parser("admin", help="operator commands").add_subparsers(
        dest="admin_command", required=True
    )

    create = admin.add_parser("create-user", help="create an account")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--name", default="")
    create.set_defaults(func=_create_user)

    grant = admin.add_parser("grant-credits", help="add credits (a ledger entry)")
    grant.add_argument("--email", required=True)
    grant.add_argument("amount", type=int)
    grant.set_defaults(func=lambda a: _credits(a, 1))

    revoke = admin.add_parser(
        "revoke-credits", help="remove credits (a ledger entry; never below zero)"
    )
    revoke.add_argument("--email", required=True)
    revoke.add_argument("amount", type=int)
    revoke.set_defaults(func=lambda a: _credits(a, -1))

    stuck = admin.add_parser(
        "stuck-jobs", help="list (and optionally requeue) jobs nobody is working on"
    )
    stuck.add_argument(
        "--older-than", type=float, default=120, help="seconds a QUEUED job has waited"
    )
    stuck.add_argument("--requeue", action="store_true")
    stuck.set_defaults(func=_stuck)

    sessions = admin.add_parser("revoke-sessions", help="sign a user out everywhere")
    sessions.add_argument("--email", required=True)
    sessions.set_defaults(func=_revoke_sessions)

    gc = admin.add_parser(
        "gc", help="find (and optionally delete) stored artifacts no generation refers to"
    )
    gc.add_argument("--delete", action="store_true")
    gc.set_defaults(func=_gc)
