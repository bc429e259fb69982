"""uv.lock: what scripts/demo, scripts/test and .ci/run install (scripts/_venv.sh). It must agree
with pyproject.toml, so a fresh machine next month installs what CI tested, not what is newest."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "change-tracker"


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))


def _declared() -> dict[str, Requirement]:
    """Every requirement pyproject.toml declares: the dependencies and the test extra."""
    project = _pyproject()["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {canonicalize_name(req.name): req for req in map(Requirement, lines)}


def _locked_versions() -> dict[str, list[Version]]:
    versions: dict[str, list[Version]] = {}
    for package in _lock()["package"]:
        if package["name"] != PROJECT:
            versions.setdefault(canonicalize_name(package["name"]), []).append(
                Version(package["version"])
            )
    return versions


def test_the_lock_records_exactly_what_pyproject_declares() -> None:
    (project,) = [p for p in _lock()["package"] if p["name"] == PROJECT]
    locked = {
        canonicalize_name(item["name"]): (
            SpecifierSet(item.get("specifier", "")),
            frozenset(item.get("extras", [])),
        )
        for item in project["metadata"]["requires-dist"]
    }
    declared = {name: (req.specifier, frozenset(req.extras)) for name, req in _declared().items()}
    assert locked == declared, "pyproject.toml changed without `uv lock`: run it and commit"


def test_every_locked_version_satisfies_pyprojects_range() -> None:
    versions = _locked_versions()
    for name, requirement in _declared().items():
        assert name in versions, f"{name} is declared but not locked"
        for version in versions[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{name} {version} is locked but pyproject.toml asks for {requirement.specifier}"
            )


def test_the_running_environment_has_the_locked_versions() -> None:
    """scripts/_venv.sh installs from the lock: what the tests run on is what the lock says."""
    versions = _locked_versions()
    for name in _declared():
        installed = Version(importlib.metadata.version(name))
        assert installed in versions[name], (
            f"{name} {installed} is installed but uv.lock pins {versions[name]}: run scripts/test "
            "(it reinstalls when pyproject.toml or uv.lock changes)"
        )


def test_uv_agrees_that_the_lock_is_up_to_date() -> None:
    uv = shutil.which("uv") or str(ROOT / ".venv" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed here (scripts/_venv.sh installs it into .venv)")
    done = subprocess.run(
        [uv, "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
