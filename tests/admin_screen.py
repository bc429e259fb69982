"""What the Admin page tests share (tests/test_page_admin_*.py, tests/test_read_admin.py,
tests/test_services_organisations.py): the pages, the demo people, opening a page as someone,
reading what it shows, the files its download buttons offer, and a two-council set-up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.screen import shown_all
from tracker import clock, db, signin
from tracker.models import (
    Organisation,
    Role,
    SignInMethod,
    User,
)

ROOT = Path(__file__).resolve().parents[1]
USERS = "pages/admin_users.py"
ORGANISATIONS = "pages/admin_organisations.py"
AUDIT = "pages/admin_audit.py"
DATA_PROTECTION = "pages/admin_data_protection.py"
SETTINGS = "pages/admin_settings.py"
PAGES = [USERS, ORGANISATIONS, AUDIT, DATA_PROTECTION, SETTINGS]
# How the navigation names each page (streamlit_app.py).
ADMIN_TITLES = {
    USERS: "Users",
    ORGANISATIONS: "Organisations",
    AUDIT: "Audit trail",
    DATA_PROTECTION: "Data protection",
    SETTINGS: "Installation settings",
}
ADA = "ada.admin@demo.example"
MAYA = "maya.manager@demo.example"
LENA = "lena.leader@demo.example"
SAM = "sam.staff@demo.example"
OTHER = "other@example.org"
LONG_PASSWORD = "correct horse battery staple"


def offered_file(at: AppTest, files: dict[str, bytes], label_start: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.label.startswith(label_start))
    return files[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]


def open_as(app_as: Callable[[str], AppTest], page: str, email: str = ADA) -> AppTest:
    at = app_as(email)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def click_button(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def text_field(at: AppTest, label: str) -> Any:
    return next(widget for widget in at.text_input if widget.label == label)


def error_text(at: AppTest) -> str:
    return "\n".join(shown_all(at.error))


def success_text(at: AppTest) -> str:
    return "\n".join(shown_all(at.success))


def matching_line(at: AppTest) -> str:
    """The audit page's line saying how many events match."""
    return next(text for text in shown_all(at.markdown) if " match" in text)


def chosen_stakeholder(at: AppTest) -> int:
    return int(next(box for box in at.selectbox if box.label == "Stakeholder").value)


def find_user(engine: Engine, email: str) -> User | None:
    with db.read_session(engine) as session:
        return session.exec(select(User).where(User.email == email)).first()


def count_rows(engine: Engine, table: Any, *where: Any) -> int:
    with db.read_session(engine) as session:
        statement = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(session.execute(statement).scalar_one())


def org_id_of(engine: Engine, short_name: str) -> int:
    with db.read_session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.short_name == short_name)).one()
    assert org.id is not None
    return org.id


def keep_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What each download button offers, by its file id (AppTest keeps files in memory)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: MemoryMediaFileStorage, path_or_data: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, path_or_data, *args, **kwargs)
        if isinstance(path_or_data, bytes):
            files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def keep_deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The callables download buttons register to make their file on a click, by file id."""
    found: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def keep(self: MediaFileManager, data_callable: Any, *args: Any, **kwargs: Any) -> str:
        file_id = original(self, data_callable, *args, **kwargs)
        found[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    return found


def record_attempt(engine: Engine, email: str, password: str | None = None) -> None:
    """One sign-in attempt as the app makes it: with a password, or by single sign-on."""
    with db.write_session(engine, actor="sign-in") as session:
        try:
            if password is None:
                signin.check_identity(
                    session=session, email=email, method=SignInMethod.sso, now=clock.now()
                )
            else:
                signin.check_password(engine, email=email, password=password, now=clock.now())
        except signin.SignInRefused:
            pass


def two_councils_in(sqlite_engine: Engine) -> dict[str, Any]:
    """An administrator of council A only; users in A, in B, and in both."""
    a, b = factories.organisation(sqlite_engine), factories.organisation(sqlite_engine)
    group_a = factories.staff_group(sqlite_engine, a, name="Housing")
    admin = factories.user(sqlite_engine, [a], role=Role.admin, email="admin@a.example")
    in_a = factories.user(
        sqlite_engine, [a], role=Role.staff, email="staff@a.example", staff_group_id=group_a
    )
    in_b = factories.user(sqlite_engine, [b], email="manager@b.example")
    both = factories.user(sqlite_engine, [a, b], email="both@example.org")
    return {
        "engine": sqlite_engine,
        "a": a,
        "b": b,
        "group_a": group_a,
        "viewer": factories.viewer(sqlite_engine, "admin@a.example"),
        "ids": {"admin": admin, "in_a": in_a, "in_b": in_b, "both": both},
    }
