"""Admin: Installation settings (pages/admin_settings.py) in AppTest on the demo database: the
hosts narratives may show images from. Only an administrator of every organisation may change
it; what they save reaches the narratives. The setting itself: tests/test_content_policy.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from tests import factories
from tests.conftest import sign_in
from tests.screen import navigation, shown_all
from tracker import clock, content_policy, db
from tracker.errors import PermissionDeniedError
from tracker.models import Audience, Narrative, NarrativeBase, NarrativeStatus, Programme
from tracker.services import records

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = "pages/admin_settings.py"
NEWS = "pages/staff_news.py"
ADA = "ada.admin@demo.example"  # administers all three demo organisations
DEV = "dev.district@demo.example"  # a manager
SAM = "sam.staff@demo.example"
HOSTS = "settings_image_hosts"
REFUSED = "This page is not available to your role."
CHART = "![Waiting times](https://images.example.org/chart.png)"


def _hosts(engine: Engine) -> frozenset[str]:
    with db.read_session(engine) as session:
        return content_policy.image_hosts(session)


def _set(engine: Engine, email: str, hosts: list[str]) -> frozenset[str]:
    with db.write_session(engine, actor=email) as session:
        return content_policy.set_image_hosts(
            session=session, viewer=factories.viewer(engine, email), hosts=hosts
        )


def _open(app_as: Callable[[str], AppTest], email: str = ADA) -> AppTest:
    at = app_as(email)
    at.switch_page(SETTINGS).run()
    assert not at.exception, at.exception
    return at


def _save(at: AppTest, typed: str) -> AppTest:
    at.text_area(key=HOSTS).input(typed)
    next(button for button in at.button if button.label == "Save image hosts").click()
    at.run()
    assert not at.exception, at.exception
    return at


def _text(elements: Any) -> str:
    return "\n".join(shown_all(elements))


# --- The page --------------------------------------------------------------------------------


def test_the_page_explains_the_setting_and_starts_with_no_host_allowed(
    app_as: Callable[[str], AppTest],
) -> None:
    at = _open(app_as)
    assert at.title[0].value == "Installation settings"
    assert "image not shown" in _text(at.markdown)
    assert "No host is allowed" in _text(at.markdown)
    assert at.text_area(key=HOSTS).value == ""


def test_saving_hosts_stores_them_in_lower_case_and_shows_them_as_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = _save(_open(app_as), "Images.Example.ORG\nintranet.council.gov.uk, images.example.org\n")
    assert not at.error, _text(at.error)
    assert "Saved: images are allowed from 2 hosts." in _text(at.success)
    assert _hosts(demo_engine) == {"images.example.org", "intranet.council.gov.uk"}
    assert at.text_area(key=HOSTS).value == "images.example.org\nintranet.council.gov.uk"
    assert "Images are allowed from: **images.example.org**" in _text(at.markdown)
    # And emptied again: none allowed.
    at = _save(at, "")
    assert "no host is allowed" in _text(at.success)
    assert _hosts(demo_engine) == frozenset()


@pytest.mark.parametrize(
    "typed",
    [
        "https://images.example.org",
        "images.example.org/charts",
        "images.example.org:8443",
        "*.example.org",
        "user@images.example.org",
        "-bad.example.org",
        "bücher.example",
    ],
)
def test_anything_but_a_bare_host_name_is_refused_and_nothing_is_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine, typed: str
) -> None:
    at = _save(_open(app_as), f"ok.example.org\n{typed}")
    errors = _text(at.error)
    assert "Not saved. Image hosts:" in errors and "is not a host name" in errors
    assert typed in errors
    assert _hosts(demo_engine) == frozenset()
    assert at.text_area(key=HOSTS).value == f"ok.example.org\n{typed}"  # the draft is kept


def test_a_manager_cannot_reach_the_page_by_navigation_or_by_address(demo_url: str) -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    sign_in(at, DEV)
    at.run()
    assert "Installation settings" not in navigation(at)
    assert "Programme dashboard" in navigation(at)
    direct = AppTest.from_file(str(ROOT / SETTINGS), default_timeout=60)
    sign_in(direct, DEV)
    direct.run()
    assert not direct.exception
    assert REFUSED in _text(direct.error)
    assert not direct.title and not direct.text_area and not direct.markdown


def test_an_admin_of_only_some_organisations_sees_the_setting_but_cannot_change_it(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    _set(demo_engine, ADA, ["images.example.org"])
    factories.organisation(demo_engine)  # one Ada does not administer
    at = _open(app_as)
    assert "Images are allowed from: **images.example.org**" in _text(at.markdown)
    assert "Only an administrator of every organisation" in _text(at.info)
    assert not at.text_area
    assert not [button for button in at.button if button.label == "Save image hosts"]
    with pytest.raises(PermissionDeniedError, match="administrator of every organisation"):
        _set(demo_engine, ADA, [])
    assert _hosts(demo_engine) == {"images.example.org"}


# --- The setting reaches the narratives --------------------------------------------------------


def _publish_chart(engine: Engine) -> None:
    """A published narrative for everyone on Sam's first programme, holding an outside image."""
    with db.write_session(engine, actor=ADA) as session:
        chosen = select(Programme).where(Programme.code == "NCC-ASC-ONLINE")
        programme = session.exec(chosen).one()
        data = {
            "programme_id": programme.id,
            "title": "Waiting times are falling",
            "body": f"Here is the chart.\n\n{CHART}",
            "audience": Audience.everyone,
            "status": NarrativeStatus.published,
            "published_on": clock.today(),
            "author": "Ada Admin",
        }
        records.create(session, Narrative, NarrativeBase, data)


def _news_markdown(app_as: Callable[[str], AppTest]) -> str:
    at = app_as(SAM)
    at.switch_page(NEWS).run()
    assert not at.exception, at.exception
    return "\n".join(str(m.value) for m in at.markdown)


def test_staff_news_shows_an_outside_image_only_once_its_host_is_allowed(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    _publish_chart(demo_engine)
    before = _news_markdown(app_as)
    assert "\\[image not shown\\: images\\.example\\.org\\]" in before
    assert CHART not in before
    _set(demo_engine, ADA, ["images.example.org"])
    assert CHART in _news_markdown(app_as)
