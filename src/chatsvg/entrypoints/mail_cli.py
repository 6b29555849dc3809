"""`chatsvg mail list` and `chatsvg mail show N|latest`: read the local outbox (mail written as .eml
files when no SMTP server is configured), e.g. to follow a password reset link while running locally.

cli.py adds the command with `add_mail_command(sub)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from chatsvg.adapters.mail.mailers import LocalOutboxDirectory, StoredMail


def add_mail_command(sub: Any) -> None:
    """Register `mail` on the `chatsvg` argparse subparsers."""
    mail = sub.add_parser(
        "mail", help="list and show the mail written to the local outbox (<data_dir>/outbox)"
    )
    mail.add_argument(
        "--dir", help="the outbox directory (default: CHATSVG_MAIL_OUTBOX_DIR, <data_dir>/outbox)"
    )
    actions = mail.add_subparsers(
        dest="mail_command", required=True, metavar="ACTION", help="list or show"
    )
    listing = actions.add_parser("list", help="list the messages, oldest first")
    listing.set_defaults(func=_list)
    show = actions.add_parser("show", help="print one message")
    show.add_argument("which", nargs="?", default="latest", help="its number, or 'latest'")
    part = show.add_mutually_exclusive_group()
    part.add_argument("--html", action="store_true", help="print the HTML part")
    part.add_argument("--raw", action="store_true", help="print the whole .eml file")
    show.set_defaults(func=_show)


def _directory(args: argparse.Namespace) -> Path:
    if args.dir:
        return Path(args.dir).expanduser()
    from chatsvg.entrypoints.startup import prepare

    settings, accounts = prepare()
    return accounts.outbox_path(settings)


def _list(args: argparse.Namespace) -> int:
    directory = _directory(args)
    mails = LocalOutboxDirectory(directory).mails()
    if not mails:
        print(f"no mail in {directory}")
        return 0
    for mail in mails:
        print(f"{mail.number:>4}  {mail.date}  to {mail.to}  {mail.subject}")
    return 0


def _show(args: argparse.Namespace) -> int:
    directory = _directory(args)
    mails = LocalOutboxDirectory(directory).mails()
    chosen = _choose(mails, args.which)
    if chosen is None:
        print(f"no message {args.which!r} in {directory} ({len(mails)} there)", file=sys.stderr)
        return 1
    if args.raw:
        sys.stdout.write(chosen.path.read_text(encoding="utf-8", errors="replace"))
        return 0
    print(f"From:    {chosen.email.get('From', '')}")
    print(f"To:      {chosen.to}")
    if chosen.email.get("Reply-To"):
        print(f"Reply-To: {chosen.email.get('Reply-To')}")
    print(f"Date:    {chosen.date}")
    print(f"Subject: {chosen.subject}")
    print()
    body = chosen.part("html") if args.html else chosen.part("plain")
    print(body if body is not None else "(no such part)")
    return 0


def _choose(mails: list[StoredMail], which: str) -> StoredMail | None:
    if not mails:
        return None
    if which == "latest":
        return mails[-1]
    try:
        number = int(which)
    except ValueError:
        return None
    return mails[number - 1] if 1 <= number <= len(mails) else None
