"""`chatsvg`: serve, worker, migrate, sanitize, and the operator's admin commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from chatsvg.entrypoints.settings import SettingsError, load_settings


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if not os.environ.get("CHATSVG_PUBLIC_URL"):
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        overrides["public_url"] = f"http://{host}:{args.port}"
    if args.workers:
        overrides["api_workers"] = args.workers
    settings = load_settings(**overrides)
    from chatsvg.entrypoints.logs import configure_logging
    from chatsvg.entrypoints.server import serve

    configure_logging(settings)
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
    from chatsvg.entrypoints.worker import run_worker

    return run_worker(load_settings(), processes=args.processes, threads=args.threads)


def _migrate(args: argparse.Namespace) -> int:
    from chatsvg.adapters.sql.migrate import upgrade
    from chatsvg.adapters.sql.uow import make_engine

    settings = load_settings()
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_path.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        engine = make_engine(settings.effective_database_url)
        try:
            await upgrade(engine, args.revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"database at {args.revision}")
    return 0


def _sanitize(args: argparse.Namespace) -> int:
    from chatsvg.adapters.svg_sanitizer import SvgSanitizer
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chatsvg", description="ChatSVG backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the API (and, in local mode, the worker and realtime) in one process"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--access-log", action="store_true")
    serve.add_argument(
        "--workers", type=int, default=0, help="API processes (default CHATSVG_API_WORKERS, 1)"
    )
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run a generation worker (Dramatiq on Redis)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument(
        "--threads",
        type=int,
        default=0,
        help="worker threads (default: CHATSVG_WORKER_CONCURRENCY)",
    )
    worker.set_defaults(func=_worker)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=_migrate)

    sanitize = sub.add_parser("sanitize", help="sanitize an SVG file (or stdin) to stdout")
    sanitize.add_argument("file", nargs="?")
    sanitize.set_defaults(func=_sanitize)

    from chatsvg.entrypoints.admin import add_admin_commands
    from chatsvg.entrypoints.mail_cli import add_mail_command

    add_admin_commands(sub)
    add_mail_command(sub)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
