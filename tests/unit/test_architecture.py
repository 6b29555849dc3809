"""The layer rules are checked by import-linter in the test command; this shows the check can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def run_linter(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(project / "pyproject.toml"), "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "static")
    )
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    return project


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = run_linter(copy_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_domain_module_importing_an_adapter_breaks_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    jobs = project / "src" / "chatsvg" / "domain" / "generation" / "jobs.py"
    jobs.write_text(jobs.read_text() + "\nfrom chatsvg.adapters import memory  # noqa\n")
    result = run_linter(project)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def test_a_domain_module_importing_a_framework_breaks_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    credits = project / "src" / "chatsvg" / "domain" / "credits" / "ledger.py"
    credits.write_text(credits.read_text() + "\nimport sqlalchemy  # noqa\n")
    result = run_linter(project)
    assert result.returncode != 0
    assert "The domain is pure" in result.stdout and "BROKEN" in result.stdout


def test_a_controller_importing_an_adapter_breaks_the_build(tmp_path: Path) -> None:
    """Handlers get their services through dependency injection, never by building adapters."""
    project = copy_project(tmp_path)
    health = project / "src" / "chatsvg" / "entrypoints" / "http" / "controllers" / "health.py"
    health.write_text(health.read_text() + "\nfrom chatsvg.adapters import clock  # noqa\n")
    result = run_linter(project)
    assert result.returncode != 0
    assert "Controllers speak to use cases" in result.stdout and "BROKEN" in result.stdout


def test_a_feature_reaching_into_another_feature_breaks_the_build(tmp_path: Path) -> None:
    """Generation and accounts are independent application features: neither imports the other."""
    project = copy_project(tmp_path)
    submission = project / "src" / "chatsvg" / "application" / "generation" / "submission.py"
    submission.write_text(
        submission.read_text() + "\nfrom chatsvg.application.accounts import sessions  # noqa\n"
    )
    result = run_linter(project)
    assert result.returncode != 0
    assert "Application features" in result.stdout and "BROKEN" in result.stdout
    report = " ".join(result.stdout.split())  # the report wraps long lines
    assert "chatsvg.application.generation.submission -> chatsvg.application.accounts" in report
