"""House rules that a reviewer would otherwise check by eye: lint, format and types clean; the
domain free of Streamlit; secrets out of git; the server settings hardened (RELIABILITY.md #2,
#3); and, in CI, the PostgreSQL and browser tests really run instead of skipping."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


def _tool(name: str) -> str:
    """The tool installed beside this Python (the project's .venv), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run scripts/test, which installs the test tools")
    return found


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_no_problems() -> None:
    result = _run(_tool("ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted_as_ruff_formats_it() -> None:
    result = _run(_tool("ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_no_type_errors_in_tracker() -> None:
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_no_file_in_tracker_imports_streamlit() -> None:
    files = sorted((ROOT / "tracker").rglob("*.py"))
    assert len(files) > 10
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            module for module in _imported_modules(path) if module.split(".")[0] == "streamlit"
        )
        for path in files
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_importing_every_tracker_module_loads_no_streamlit() -> None:
    script = (
        "import importlib, pkgutil, sys\n"
        "import tracker\n"
        "names = [m.name for m in pkgutil.walk_packages(tracker.__path__, 'tracker.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit')\n"
        "print(len(names), loaded)\n"
    )
    result = _run(sys.executable, "-c", script)
    assert result.returncode == 0, result.stderr
    count, loaded = result.stdout.strip().split(" ", 1)
    assert int(count) > 10
    assert loaded == "[]", f"importing tracker loaded {loaded}"


def _in_git_work_tree() -> bool:
    git = shutil.which("git")
    return git is not None and _run(git, "rev-parse", "--is-inside-work-tree").returncode == 0


def test_streamlit_secrets_are_ignored_by_git_and_not_tracked() -> None:
    if not _in_git_work_tree():
        pytest.skip("not a git checkout, so nothing can be committed from here")
    assert _run("git", "check-ignore", "-q", ".streamlit/secrets.toml").returncode == 0
    tracked = _run("git", "ls-files", "--error-unmatch", ".streamlit/secrets.toml")
    assert tracked.returncode != 0, ".streamlit/secrets.toml is committed: remove it from git"


def _config() -> dict[str, dict[str, object]]:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as handle:
        return tomllib.load(handle)


def test_server_settings_are_hardened() -> None:
    config = _config()
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["server"]["maxUploadSize"] == 10
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "minimal"
    assert config["client"]["showErrorDetails"] == "none"


def test_every_configured_option_is_one_streamlit_knows() -> None:
    from streamlit import config as streamlit_config

    known = set(streamlit_config.get_config_options())
    configured = {f"{section}.{key}" for section, values in _config().items() for key in values}
    assert configured - known == set()


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("colour", ["primaryColor", "linkColor", "textColor"])
@pytest.mark.parametrize("background", ["backgroundColor", "secondaryBackgroundColor"])
def test_theme_colours_meet_wcag_aa_contrast(colour: str, background: str) -> None:
    theme = _config()["theme"]
    assert _contrast(str(theme[colour]), str(theme[background])) >= 4.5


def test_ci_runs_postgres_and_browser_tests() -> None:
    """In CI (.ci/run sets TRACKER_REQUIRE_*), a missing database or browser fails the run
    here instead of letting the tests that need them skip quietly."""
    require_postgres = os.environ.get("TRACKER_REQUIRE_POSTGRES") == "1"
    require_browser = os.environ.get("TRACKER_REQUIRE_BROWSER") == "1"
    if not (require_postgres or require_browser):
        pytest.skip(
            "only checked where TRACKER_REQUIRE_POSTGRES=1 or TRACKER_REQUIRE_BROWSER=1 "
            "(.ci/run sets both)"
        )
    if require_postgres:
        url = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
        assert url, "TRACKER_REQUIRE_POSTGRES=1 but TRACKER_TEST_POSTGRES_URL is not set"
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
                is_superuser = connection.exec_driver_sql("SHOW is_superuser").scalar()
        finally:
            engine.dispose()
        assert is_superuser == "on", "the test role must be a superuser to create databases"
    if require_browser:
        assert CHROMIUM.exists(), f"TRACKER_REQUIRE_BROWSER=1 but {CHROMIUM} is missing"
        assert os.access(CHROMIUM, os.X_OK)


def test_no_page_renders_raw_html() -> None:
    """RELIABILITY.md #1: user text reaches the screen only through st.markdown's safe default
    (and tracker.safe_text), never through unsafe_allow_html or st.html."""
    sources = [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "unsafe_allow_html" in line or "st.html(" in line
    ]
    assert not offenders, f"raw HTML rendering in: {', '.join(offenders)}"


def test_every_test_and_test_file_the_docs_name_exists() -> None:
    """docs/reliability.md proves each promise by naming tests (`tests/x.py::test_y`, and
    `::test_z` for another in the same file): a renamed or moved test must be renamed there too."""
    import re

    defined: dict[str, set[str]] = {}
    for path in Path(ROOT, "tests").rglob("*.py"):
        names = set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
        defined[path.relative_to(ROOT).as_posix()] = names
    missing = []
    for doc in ("docs/reliability.md", "CONTRIBUTING.md"):
        for line in Path(ROOT, doc).read_text(encoding="utf-8").splitlines():
            current = None
            for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?`", line):
                current = path or current
                if path and "<" not in path and path not in defined:
                    missing.append(f"{doc}: {path}")
                elif name and current is not None and name not in defined.get(current, set()):
                    missing.append(f"{doc}: {current}::{name}")
    assert missing == []
