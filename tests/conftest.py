"""Real databases for tests: a SQLite file per test (copied from one migrated template), and
PostgreSQL when TRACKER_TEST_POSTGRES_URL names a server (CI sets it; elsewhere they skip)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracker import db
from tracker.seed.demo import seed_demo

POSTGRES_URL = os.environ.get("TRACKER_TEST_POSTGRES_URL", "")
NO_POSTGRES = (
    "PostgreSQL tests need TRACKER_TEST_POSTGRES_URL (a superuser URL); .ci/run installs and "
    "starts PostgreSQL and sets it"
)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(migrated_sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "tracker.db"
    shutil.copy(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = db.make_engine(sqlite_url)
    yield engine
    engine.dispose()


def _create_postgres_database(template: str | None = None) -> str:
    name = f"tracker_test_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
    admin.dispose()
    return name


def _drop_postgres_database(name: str) -> None:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _postgres_url(name: str) -> str:
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture(scope="session")
def demo_template(migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(migrated_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    seed_demo(engine)
    engine.dispose()
    return path


@pytest.fixture
def demo_url(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "tracker.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_DEMO", "1")
    return url


@pytest.fixture(scope="module")
def shared_demo_engine(
    demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One copy of the seeded demo database shared by a test module's read-only tests."""
    path = tmp_path_factory.mktemp("shared-demo") / "demo.db"
    shutil.copy(demo_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    """An engine on this test's own copy of the seeded demo database (see `demo_url`)."""
    engine = db.make_engine(demo_url)
    yield engine
    engine.dispose()


def sign_in(at: Any, email: str) -> None:
    """Sign `at` in as `email`, as single sign-on (st.login) would: the app matches the e-mail
    to an active user and starts a session for them on the first run."""
    at.user = {"is_logged_in": True, "email": email}


@pytest.fixture
def app_as(demo_url: str) -> Callable[[str], Any]:
    def start(email: str) -> Any:
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(APP, default_timeout=60)
        sign_in(at, email)
        at.run()
        assert not at.exception, at.exception
        return at

    return start


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = _create_postgres_database()
    try:
        yield _postgres_url(name)
    finally:
        _drop_postgres_database(name)


@pytest.fixture(scope="session")
def migrated_postgres_template() -> Iterator[str]:
    """One migrated database that each test's database is copied from (CREATE ... TEMPLATE),
    so tests do not pay for migrating every time."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    name = _create_postgres_database()
    engine = db.make_engine(_postgres_url(name))
    db.migrate(engine)
    engine.dispose()
    try:
        yield name
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def postgres_engine(migrated_postgres_template: str) -> Iterator[Engine]:
    name = _create_postgres_database(template=migrated_postgres_template)
    engine = db.make_engine(_postgres_url(name))
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database of each kind: storage tests run on both."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]
