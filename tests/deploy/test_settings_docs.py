"""docs/deploy.md against the settings the code reads: every `CHATSVG_*` name it mentions is a
setting, and every setting (a field of `Settings` or of `AccountsSettings`) is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.settings import ALIASES, Settings
from chatsvg.entrypoints.startup import environment_names

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DOCS = ROOT / "docs" / "deploy.md"
PREFIXED = re.compile(r"\bCHATSVG_[A-Z0-9_]*[A-Z0-9]\b")


def documented_names(text: str) -> set[str]:
    return set(PREFIXED.findall(text))


def test_every_chatsvg_variable_in_the_deploy_docs_is_a_setting() -> None:
    unknown = documented_names(DEPLOY_DOCS.read_text(encoding="utf-8")) - environment_names()
    assert unknown == set(), f"docs/deploy.md names variables nothing reads: {sorted(unknown)}"


def test_every_setting_is_documented_in_the_deploy_docs() -> None:
    docs = DEPLOY_DOCS.read_text(encoding="utf-8")
    names = documented_names(docs)
    aliases_of = {field: name for name, field in ALIASES.items()}
    missing = []
    for struct in (Settings, AccountsSettings):
        for field in struct.__struct_fields__:
            alias = aliases_of.get(field)
            if f"CHATSVG_{field.upper()}" in names or (alias and f"`{alias}`" in docs):
                continue
            missing.append(f"{struct.__name__}.{field}")
    assert missing == [], f"settings missing from docs/deploy.md: {missing}"


def test_the_docs_comparison_catches_a_typo_and_a_missing_setting() -> None:
    text = "Set `CHATSVG_LOG_LEVL` and `CHATSVG_MODE`; `CHATSVG_<FIELD>` is the pattern."
    assert documented_names(text) - environment_names() == {"CHATSVG_LOG_LEVL"}
    assert "CHATSVG_SECRET_KEY" not in documented_names(text)


def test_the_deploy_docs_state_the_code_s_pool_worker_and_shutdown_figures() -> None:
    docs = DEPLOY_DOCS.read_text(encoding="utf-8")
    defaults = Settings()
    assert f"`CHATSVG_DB_POOL_SIZE` ({defaults.db_pool_size})" in docs
    assert "grow to" not in docs, "the pool has no overflow"
    assert "lease/4" not in docs and "LEASE_SECONDS / 4" not in docs
    grace = f"`CHATSVG_SHUTDOWN_GRACE_SECONDS` ({defaults.shutdown_grace_seconds:g} s by default)"
    assert grace in docs
    assert f"`CHATSVG_WORKER_THREADS` ({defaults.worker_threads})" in docs
    assert f"`CHATSVG_WORKER_MAX_IN_FLIGHT` ({defaults.worker_max_in_flight:,})" in docs
