"""The installation's content policy (tracker/content_policy.py): the hosts narratives may show
images from, which only an administrator of every organisation (or the installation itself) may
change, within the setting's limits."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests import factories
from tests.factories import SYSTEM
from tracker import content_policy, db
from tracker.errors import DomainError, PermissionDeniedError

ADA = "ada.admin@demo.example"  # administers all three demo organisations
DEV = "dev.district@demo.example"  # a manager
SAM = "sam.staff@demo.example"


def _hosts(engine: Engine) -> frozenset[str]:
    with db.read_session(engine) as session:
        return content_policy.image_hosts(session)


def _set(engine: Engine, email: str, hosts: list[str]) -> frozenset[str]:
    with db.write_session(engine, actor=email) as session:
        return content_policy.set_image_hosts(
            session=session, viewer=factories.viewer(engine, email), hosts=hosts
        )


def test_only_an_administrator_may_change_the_setting(demo_engine: Engine) -> None:
    for email in (DEV, SAM, "lena.leader@demo.example", "maya.manager@demo.example"):
        with pytest.raises(PermissionDeniedError, match="Only administrators"):
            _set(demo_engine, email, ["images.example.org"])
    assert _hosts(demo_engine) == frozenset()
    assert _set(demo_engine, ADA, ["images.example.org"]) == {"images.example.org"}
    # The installation itself (set-up commands) may too.
    with db.write_session(demo_engine, actor="tests") as session:
        content_policy.set_image_hosts(session=session, viewer=SYSTEM, hosts=[])
    assert _hosts(demo_engine) == frozenset()


def test_hosts_that_do_not_fit_the_setting_are_refused(demo_engine: Engine) -> None:
    many = [f"host-number-{n}.images.example.org" for n in range(10)]
    with pytest.raises(DomainError, match="too many"):
        _set(demo_engine, ADA, many)
    assert _hosts(demo_engine) == frozenset()


def test_parse_hosts_reads_one_per_line_commas_and_spaces() -> None:
    assert content_policy.parse_hosts(" a.org\n\nb.org, c.org  d.org,\n") == [
        "a.org",
        "b.org",
        "c.org",
        "d.org",
    ]
