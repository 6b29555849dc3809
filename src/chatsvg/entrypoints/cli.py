"""`chatsvg`: serve, worker, migrate, check-config, sanitize, and the operator's admin and mail
commands.

Exit codes: 0 done; 1 the command failed (a database, Redis or file it cannot reach, an unknown
user, ...: one line on stderr, no traceback); 2 a configuration error (a setting is missing or
invalid: `configuration error: ...` on stderr), a mistake on the command line (argparse), or an SVG
that `sanitize` rejected.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from chatsvg import __version__
from chatsvg.entrypoints.settings import Settings, SettingsError

log = logging.getLogger("chatsvg.cli")


def _serve(args: argparse.Namespace) -> int:
    from chatsvg.entrypoints.startup import prepare

    overrides: dict[str, Any] = {}
    if not os.environ.get("CHATSVG_PUBLIC_URL"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        overrides["public_url"] = f"http://{host}:{args.port}"
    if args.workers:
        overrides["api_workers"] = args.workers
    settings, _accounts = prepare("api", **overrides)
    from chatsvg.entrypoints.server import serve

    print(
        f"ChatSVG ({settings.mode} mode) on http://{args.host}:{args.port}"
        + (
            "  — playground at /, API docs at /schema"
            if settings.playground_enabled
            else "  — API docs at /schema"
        )
    )
    serve(settings, host=args.host, port=args.port, access_log=args.access_log)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from chatsvg.entrypoints.startup import prepare

    settings, _accounts = prepare("worker")
    from chatsvg.entrypoints.worker import run_worker

    return run_worker(settings, processes=args.processes, threads=args.threads)


def _check_config(args: argparse.Namespace) -> int:
    from chatsvg.entrypoints.startup import prepare

    settings, accounts = prepare(args.role)
    if args.role == "worker":
        print(f"configuration OK for `chatsvg worker` ({settings.mode} mode)")
        return 0
    mail = {
        "smtp": f"SMTP through {accounts.smtp_host}",
        "files": f".eml files in {accounts.outbox_path(settings)}",
        "none": "off",
    }[accounts.effective_mail_backend]
    providers = [p for p in ("google", "github") if getattr(accounts, f"{p}_enabled")]
    print(f"configuration OK for `chatsvg serve` ({settings.mode} mode)")
    print(f"  mail: {mail}; OAuth sign-in: {', '.join(providers) or 'none'}")
    return 0


def _migration_engine() -> tuple[Any, Settings]:
    from chatsvg.adapters.sql.engine import make_engine
    from chatsvg.entrypoints.startup import prepare

    settings, _accounts = prepare()
    # Our own line per migration instead of Alembic's chatter.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_path.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.effective_database_url), settings


def _state(revisions: Sequence[str]) -> str:
    from chatsvg.adapters.sql.migrate import head_revision

    if not revisions:
        return "no migration applied (empty database)"
    head = head_revision()
    at = ", ".join(revisions)
    return f"{at} (head)" if tuple(revisions) == (head,) else f"{at} (head is {head})"


def _migrate(args: argparse.Namespace) -> int:
    from chatsvg.adapters.sql import migrate
    from chatsvg.entrypoints.startup import reaching_database

    engine, settings = _migration_engine()

    async def run() -> int:
        try:
            if args.action == "current":
                print(_state(await migrate.current_revisions(engine)))
                return 0
            if args.action == "downgrade":
                steps = await migrate.downgrade(engine, args.revision)
            else:
                steps = await migrate.upgrade(engine, args.revision)
            for step in steps:
                log.info(
                    "migration applied" if step.upgrade else "migration reverted",
                    extra={"revision": step.revision, "description": step.description},
                )
            state = _state(await migrate.current_revisions(engine))
        finally:
            await engine.dispose()
        if not steps:
            print(f"nothing to do: database at {state}")
        else:
            verb = "applied" if args.action == "upgrade" else "reverted"
            print(f"{verb} {len(steps)} migration(s): database at {state}")
        return 0

    with reaching_database(settings):
        return asyncio.run(run())


def _sanitize(args: argparse.Namespace) -> int:
    from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
    from chatsvg.application.ports import SvgRejected

    if args.file in (None, "-"):
        text = sys.stdin.read()
    else:
        with open(args.file, encoding="utf-8") as source:
            text = source.read()
    try:
        sys.stdout.write(SvgSanitizer().sanitize(text))
    except SvgRejected as rejected:
        print(f"rejected ({rejected.code}): {rejected.reason}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatsvg",
        description="ChatSVG backend. Settings come from the environment (docs/deploy.md).",
        epilog="Exit codes: 0 done, 1 failed, 2 configuration error or bad arguments.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do (see COMMAND --help)"
    )

    serve = sub.add_parser(
        "serve", help="run the API (and, in local mode, the worker and realtime) in one process"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--access-log", action="store_true", help="log one line per HTTP request")
    serve.add_argument(
        "--workers",
        type=int,
        default=0,
        help="API processes sharing the port (default: CHATSVG_API_WORKERS, 1)",
    )
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run a generation worker (Dramatiq on Redis)")
    worker.add_argument(
        "--processes", type=int, default=1, help="worker processes to start (default: 1)"
    )
    worker.add_argument(
        "--threads",
        type=int,
        default=0,
        help="Dramatiq threads per process (default: CHATSVG_WORKER_THREADS, 8)",
    )
    worker.set_defaults(func=_worker)

    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations (`chatsvg migrate` alone upgrades to the newest)",
        description="Alembic migrations of the database named by DATABASE_URL (SQLite in the "
        "data directory without it). Each migration applied or reverted is logged.",
    )
    actions = migrate.add_subparsers(
        dest="action", metavar="ACTION", help="upgrade (the default), current or downgrade"
    )
    migrate.set_defaults(func=_migrate, action="upgrade", revision="head")
    up = actions.add_parser("upgrade", help="apply migrations up to REVISION (default: head)")
    up.add_argument(
        "revision", nargs="?", default="head", help="target revision id (default: head)"
    )
    actions.add_parser("current", help="print the revision the database is at")
    down = actions.add_parser(
        "downgrade",
        help="revert migrations down to REVISION (drops what they created, data included)",
    )
    down.add_argument("revision", help="target revision id, -1 for one step back, or base")

    check = sub.add_parser(
        "check-config",
        help="check the settings in the environment as a process would at start-up, then exit",
        description="Exit 0 if a process of ROLE would start with this environment, 2 (with the "
        "reason on stderr) if it would refuse to.",
    )
    check.add_argument(
        "--role",
        choices=("api", "worker"),
        default="api",
        help="check as `chatsvg serve` (api, the default) or `chatsvg worker` would",
    )
    check.set_defaults(func=_check_config)

    sanitize = sub.add_parser("sanitize", help="sanitize an SVG file (or stdin) to stdout")
    sanitize.add_argument("file", nargs="?", help="the SVG file to read (default, or -: stdin)")
    sanitize.set_defaults(func=_sanitize)

    from chatsvg.entrypoints.admin import add_admin_commands
    from chatsvg.entrypoints.billing_cli import add_dev_command
    from chatsvg.entrypoints.mail_cli import add_mail_command

    add_admin_commands(sub)
    add_mail_command(sub)
    add_dev_command(sub)
    return parser


def operational_error(exc: BaseException) -> str | None:
    """The one-line message for a failure that is the environment's, not a bug (a database or
    Redis that cannot be reached, a file that cannot be read, an unknown revision); None for
    anything else."""
    from alembic.util import CommandError as AlembicError
    from botocore.exceptions import BotoCoreError, ClientError
    from redis.exceptions import RedisError
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        cause = getattr(exc, "orig", None) or exc
        return f"database: {_first_line(cause)}"
    if isinstance(exc, RedisError):
        return f"redis: {_first_line(exc)}"
    if isinstance(exc, BotoCoreError | ClientError):
        return f"storage: {_first_line(exc)}"
    if isinstance(exc, AlembicError):
        return f"migrations: {_first_line(exc)}"
    if isinstance(exc, OSError):
        return _first_line(exc)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = operational_error(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
