"""The lock files against pyproject.toml, and who installs from them.

`make run`, `make test` and the Docker image install exactly what requirements/*.lock pin, each
file checked against its hash; only the project itself comes from the tree (without
dependencies). So every dependency pyproject.toml declares must be pinned there, at a version
its specifier allows, and both locks must agree. `make lock` rewrites them from pyproject.toml.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
HASH_OPTION = re.compile(r"--hash=(\S+)")


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: Version
    marker: Marker | None
    hashes: tuple[str, ...]


def read_lock(text: str) -> list[Pin]:
    """The pins of a requirements file as `uv pip compile --generate-hashes` writes it; a line
    that is not an exact pin (`name==version`) raises ValueError."""
    pins: list[Pin] = []
    for entry in text.replace("\\\n", " ").splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        hashes = tuple(HASH_OPTION.findall(entry))
        requirement = Requirement(HASH_OPTION.sub("", entry).strip())
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise ValueError(f"not an exact pin: {entry}")
        name, version = canonicalize_name(requirement.name), Version(specs[0].version)
        pins.append(Pin(name, version, requirement.marker, hashes))
    return pins


def disagreements(declared: list[str], pins: list[Pin]) -> list[str]:
    """What keeps `pins` from satisfying the requirements `declared` (pyproject.toml's strings):
    a requirement nothing pins, or a pin outside its specifier (every pin of that name counts:
    a universal lock may pin a name once per platform)."""
    by_name: dict[NormalizedName, list[Pin]] = defaultdict(list)
    for pin in pins:
        by_name[pin.name].append(pin)
    found: list[str] = []
    for line in declared:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        candidates = by_name.get(canonicalize_name(requirement.name), [])
        if not candidates:
            found.append(f"{requirement.name} is not pinned")
        for pin in candidates:
            if not requirement.specifier.contains(pin.version, prereleases=True):
                found.append(f"{requirement.name}=={pin.version} is outside {line!r}")
    return found


def project() -> dict[str, list[str]]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"runtime": table["dependencies"], "dev": table["optional-dependencies"]["dev"]}


# -- the locks agree with pyproject.toml -------------------------------------------------------


def test_the_runtime_lock_pins_every_runtime_dependency_within_its_specifier() -> None:
    pins = read_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))
    assert disagreements(project()["runtime"], pins) == [], "run `make lock`"


def test_the_dev_lock_pins_every_runtime_and_dev_dependency_within_its_specifier() -> None:
    declared = project()
    pins = read_lock(DEV_LOCK.read_text(encoding="utf-8"))
    assert disagreements([*declared["runtime"], *declared["dev"]], pins) == [], "run `make lock`"


def test_the_runtime_lock_pins_what_the_dev_lock_pins() -> None:
    """`make run` and `make test` run the same versions: the runtime lock is the dev lock less
    the development tools."""
    runtime = read_lock(RUNTIME_LOCK.read_text(encoding="utf-8"))
    dev = read_lock(DEV_LOCK.read_text(encoding="utf-8"))
    in_dev = {(p.name, p.version, str(p.marker), p.hashes) for p in dev}
    differ = [p for p in runtime if (p.name, p.version, str(p.marker), p.hashes) not in in_dev]
    assert differ == []
    assert {p.name for p in dev} > {p.name for p in runtime}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_pin_is_exact_and_carries_its_hashes(lock: Path) -> None:
    pins = read_lock(lock.read_text(encoding="utf-8"))
    assert len(pins) > 50
    assert [p.name for p in pins if not p.hashes] == []
    assert all(
        h.startswith("sha256:") and len(h) == len("sha256:") + 64 for p in pins for h in p.hashes
    )


def test_a_lock_missing_a_dependency_or_outside_a_specifier_is_reported() -> None:
    lock = read_lock(
        "# a comment\n"
        "redis==9.0.0 \\\n"
        "    --hash=sha256:" + "0" * 64 + "\n"
        "    # via chatsvg (pyproject.toml)\n"
        "tomli==2.0.0 ; python_full_version < '3.11' \\\n"
        "    --hash=sha256:" + "1" * 64 + "\n"
    )
    assert [(p.name, str(p.version), p.marker is not None) for p in lock] == [
        ("redis", "9.0.0", False),
        ("tomli", "2.0.0", True),
    ]
    assert disagreements(["redis[hiredis]>=5,<9", "litestar>=2.12,<3"], lock) == [
        "redis==9.0.0 is outside 'redis[hiredis]>=5,<9'",
        "litestar is not pinned",
    ]
    assert disagreements(["Redis>=5", "tomli>=1 ; python_version < '3'"], lock) == []
    with pytest.raises(ValueError, match="not an exact pin"):
        read_lock("redis>=5\n")


# -- who installs from them ---------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_installs_the_locks_with_hashes_and_the_project_without_dependencies(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"  # never created: `make -n` only prints what it would run
    dry_run = subprocess.run(
        ["make", "-n", f"VENV={venv}", f"{venv}/.dev-installed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    installs = [line for line in dry_run.stdout.splitlines() if " install " in line]
    assert installs == [
        f"{venv}/bin/pip install -q --upgrade pip",
        f"{venv}/bin/pip install -q --require-hashes -r requirements/runtime.lock",
        f"{venv}/bin/pip install -q --no-deps -e .",
        f"{venv}/bin/pip install -q --require-hashes -r requirements/dev.lock",
    ]
    assert not venv.exists()


def test_the_image_installs_the_runtime_lock_with_hashes() -> None:
    parser = DockerfileParser(path=str(ROOT / "deploy" / "Dockerfile"))
    copies = [i["value"] for i in parser.structure if i["instruction"] == "COPY"]
    assert any("requirements/runtime.lock" in c.split()[:-1] for c in copies)
    runs = " ".join(i["value"] for i in parser.structure if i["instruction"] == "RUN")
    assert "--require-hashes -r requirements/runtime.lock" in runs
    assert "--no-deps" in runs, "the project's own dependencies come from the lock only"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!requirements/runtime.lock" in ignored
