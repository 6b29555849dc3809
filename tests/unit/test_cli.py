"""The `chatsvg` command line: help for every option, `--version`, exit codes and messages (no
traceback for a configuration, database or file error), `migrate` and its subcommands, and
`admin create-user` taking the password from stdin, never from argv.

The commands run as real subprocesses (`python -m chatsvg.entrypoints.cli ...`) against a SQLite
database in a temporary data directory."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chatsvg import __version__
from chatsvg.adapters.sql.migrate import head_revision
from chatsvg.entrypoints.cli import build_parser

MIGRATIONS = Path(__file__).parents[2] / "src/chatsvg/adapters/sql/migrations/versions"
Run = Callable[..., subprocess.CompletedProcess[str]]


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command's parser, with the words that select it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def test_every_command_and_option_has_help_text() -> None:
    undocumented = []
    for path, parser in commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                undocumented += [
                    f"{' '.join((*path, n))}" for n in action.choices if not helps.get(n)
                ]
            if not action.help or action.help == argparse.SUPPRESS:
                undocumented.append(f"{' '.join(path) or 'chatsvg'} {action.dest}")
        # and the help output shows each option
        text = parser.format_help()
        for action in parser._actions:
            for option in action.option_strings:
                assert option in text, (path, option)
    assert undocumented == []
    names = {" ".join(path) for path, _ in commands(build_parser())}
    assert {"migrate current", "migrate downgrade", "check-config", "admin create-user"} <= names


def test_the_help_check_catches_an_option_without_help() -> None:
    parser = build_parser()
    parser.add_argument("--undocumented")
    assert [a for a in parser._actions if not a.help] != []


@pytest.fixture
def chatsvg(tmp_path: Path, request: pytest.FixtureRequest) -> Run:
    # Each command takes a second or more to start: `make test-fast` leaves these tests out.
    assert request.node.get_closest_marker("subprocess"), "mark it @pytest.mark.subprocess"
    data = tmp_path / "data"
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CHATSVG_DATA_DIR": str(data),
        "CHATSVG_ARGON2_TIME_COST": "1",
        "CHATSVG_ARGON2_MEMORY_KIB": "1024",
    }

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", *args],
            env={**base, **(env or {})},
            cwd=tmp_path,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


@pytest.mark.subprocess
def test_version(chatsvg: Run) -> None:
    result = chatsvg("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"chatsvg {__version__}"


@pytest.mark.subprocess
def test_migrate_logs_what_it_applies_and_has_current_and_downgrade(chatsvg: Run) -> None:
    head = head_revision()
    assert head is not None
    count = len(list(MIGRATIONS.glob("*.py")))
    first = chatsvg("migrate")
    assert first.returncode == 0, first.stderr
    assert f"applied {count} migration(s)" in first.stdout and f"{head} (head)" in first.stdout
    applied = [line for line in first.stderr.splitlines() if "migration applied" in line]
    assert len(applied) == count and head in applied[-1] and "initial schema" in applied[0]
    again = chatsvg("migrate", "upgrade")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert "migration applied" not in again.stderr
    assert chatsvg("migrate", "current").stdout.strip() == f"{head} (head)"

    down = chatsvg("migrate", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert "reverted 1 migration(s)" in down.stdout
    assert [
        line for line in down.stderr.splitlines() if "migration reverted" in line and head in line
    ]
    behind = chatsvg("migrate", "current").stdout.strip()
    assert behind.endswith(f"(head is {head})") and not behind.startswith(head)

    unknown = chatsvg("migrate", "downgrade", "no-such-revision")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: migrations: ") and "no-such-revision" in unknown.stderr
    assert chatsvg("migrate", "downgrade").returncode == 2  # REVISION is required
    assert chatsvg("migrate").returncode == 0
    assert chatsvg("migrate", "current").stdout.strip() == f"{head} (head)"


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "args",
    [("migrate",), ("migrate", "current"), ("admin", "stuck-jobs")],
)
def test_an_unreachable_database_is_one_line_on_stderr_and_exit_1(
    chatsvg: Run, args: tuple[str, ...]
) -> None:
    result = chatsvg(*args, env={"DATABASE_URL": "postgresql://chatsvg:pw@127.0.0.1:1/chatsvg"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the database 127.0.0.1:1/chatsvg: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "pw" not in result.stderr


@pytest.mark.subprocess
def test_a_missing_file_is_one_line_on_stderr_and_exit_1(chatsvg: Run) -> None:
    result = chatsvg("sanitize", "missing.svg")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "missing.svg" in result.stderr


@pytest.mark.subprocess
def test_configuration_errors_exit_2_without_a_traceback(chatsvg: Run) -> None:
    result = chatsvg("check-config", env={"CHATSVG_LOG_LEVEL": "loud"})
    assert result.returncode == 2
    assert result.stderr.startswith("configuration error: CHATSVG_LOG_LEVEL must be one of")
    worker = chatsvg("worker", env={"CHATSVG_START_CREDITS": "many"})
    assert worker.returncode == 2 and worker.stderr.startswith("configuration error: ")


@pytest.mark.subprocess
def test_a_misspelt_setting_is_a_warning_naming_the_right_one(chatsvg: Run) -> None:
    result = chatsvg(
        "check-config",
        env={"CHATSVG_SMTP_HOSTNAME": "smtp.example.com", "CHATSVG_SKIP_REAL": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "CHATSVG_SMTP_HOSTNAME is not a ChatSVG setting" in result.stderr
    assert "did you mean CHATSVG_SMTP_HOST?" in result.stderr
    assert "CHATSVG_SKIP_REAL" not in result.stderr  # a test switch, not a mistake
    assert "configuration OK for `chatsvg serve` (local mode)" in result.stdout


@pytest.mark.subprocess
def test_create_user_reads_the_password_from_stdin_never_from_argv(chatsvg: Run) -> None:
    assert chatsvg("migrate").returncode == 0
    on_argv = chatsvg(
        "admin", "create-user", "--email", "op@example.com", "--password", "correct horse"
    )
    assert on_argv.returncode == 2 and "unrecognized arguments: --password" in on_argv.stderr
    no_terminal = chatsvg("admin", "create-user", "--email", "op@example.com")
    assert no_terminal.returncode == 1 and "--password-stdin" in no_terminal.stderr
    empty = chatsvg(
        "admin", "create-user", "--email", "op@example.com", "--password-stdin", stdin="\n"
    )
    assert empty.returncode == 1 and "no password" in empty.stderr
    created = chatsvg(
        "admin",
        "create-user",
        "--email",
        "op@example.com",
        "--name",
        "Op",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("created op@example.com")
    assert "correct horse" not in created.stdout + created.stderr
    assert (
        "balance 15" in chatsvg("admin", "grant-credits", "--email", "op@example.com", "5").stdout
    )
    refused = chatsvg("admin", "revoke-credits", "--email", "op@example.com", "50")
    assert refused.returncode == 1 and refused.stderr.startswith("error: ")
    assert "below zero" in refused.stderr and refused.stdout == ""


@pytest.mark.subprocess
def test_the_password_is_the_line_read_from_stdin(chatsvg: Run, tmp_path: Path) -> None:
    """What is stored is exactly the line (without its newline): that password signs in."""
    import asyncio
    import sqlite3

    from chatsvg.adapters.accounts.passwords import Argon2PasswordHasher

    assert chatsvg("migrate").returncode == 0
    created = chatsvg(
        "admin", "create-user", "--email", "pw@example.com", "--password-stdin", stdin="s3cret pw\n"
    )
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(tmp_path / "data" / "chatsvg.db") as db:
        [stored] = db.execute(
            "SELECT password_hash FROM users WHERE email = 'pw@example.com'"
        ).fetchone()
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    assert asyncio.run(hasher.verify(stored, "s3cret pw"))
    assert not asyncio.run(hasher.verify(stored, "s3cret pw\n"))
