"""The programme dashboard in AppTest, as leadership and as a manager, on the demo portfolio:
links open the right programme, the rating is explained beside its override, names are shown
only where the viewer may see them, and overrides need a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import select

from tests.leadership_screen import LEADER, MANAGER, texts
from tracker import clock, db, read
from tracker.models import ConfidenceOverride, Programme, Stakeholder
from tracker.safe_text import plain_text


def test_a_programme_link_opens_that_programme_and_its_view(
    app_as: Callable[[str], Any],
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "NCC-CARE-RECORD"
    at.query_params["view"] = "Metrics"
    at.run()
    assert not at.exception
    assert at.header[0].value == plain_text("Shared care record for hospital discharge")
    assert "Metrics against baseline and target" in [s.value for s in at.subheader]


def test_the_dashboard_explains_the_rating_and_shows_the_override_beside_it(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "NCC-CARE-RECORD"
    at.run()
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        pid = session.exec(select(Programme.id).where(Programme.code == "NCC-CARE-RECORD")).one()
        suggestion, override = read.programme.confidence_for(
            session=session, programme_id=pid, today=clock.today()
        )
    text = texts(at)
    assert override is not None
    assert f"Suggested: **{suggestion.rating.label}**" in text
    assert f"Overridden to **{override.rating.label}**" in text
    assert suggestion.deciding is not None and suggestion.deciding.evidence_text in text
    rules = at.dataframe[0].value
    assert len(rules) == len(suggestion.results)
    assert list(rules["Set the rating"]).count("Yes") == 1


def test_leadership_sees_named_hotspots_but_no_other_names_and_no_notes(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "EDC-SHARED-PLAT"
    at.query_params["view"] = "People"
    at.run()
    assert not at.exception
    text = texts(at)
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        programme = session.exec(select(Programme).where(Programme.code == "EDC-SHARED-PLAT")).one()
        people = session.exec(
            select(Stakeholder).where(Stakeholder.programme_id == programme.id)
        ).all()
    hot = [p for p in people if p.influence >= 4 and p.stance <= -1]
    assert hot, "the demo programme has a hotspot"
    # The sponsor and manager are named on the programme itself, as everyone may see.
    public = f"{programme.sponsor} {programme.manager}"
    for person in people:
        assert person.notes not in text
        if person.name in public:
            continue
        if person in hot:
            assert person.name in text
        else:
            assert person.name not in text


def test_a_manager_sees_every_stakeholder_name_on_the_power_interest_grid(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(MANAGER)
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "NCC-CARE-RECORD"
    at.query_params["view"] = "People"
    at.run()
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        pid = session.exec(select(Programme.id).where(Programme.code == "NCC-CARE-RECORD")).one()
        names = session.exec(select(Stakeholder.name).where(Stakeholder.programme_id == pid)).all()
    text = texts(at)
    assert all(name in text for name in names)


def test_an_override_without_a_reason_is_refused_and_nothing_is_written(
    app_as: Callable[[str], Any], demo_url: str
) -> None:
    at = app_as(MANAGER)
    at.switch_page("pages/programme.py")
    at.query_params["programme"] = "NCC-ASC-ONLINE"
    at.run()
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        before = len(session.exec(select(ConfidenceOverride)).all())
    at.selectbox(key="programme_override_rating").set_value("green")
    at.text_area(key="programme_override_reason").input("too short")
    at.button[0].click().run()
    assert "Not saved" in at.error[0].value and "reason" in at.error[0].value
    assert at.text_area(key="programme_override_reason").value == "too short"
    with db.read_session(engine) as session:
        assert len(session.exec(select(ConfidenceOverride)).all()) == before

    at.text_area(key="programme_override_reason").input(
        "Board agreed the metrics lag the launch by a quarter; delivery is on track."
    )
    at.button[0].click().run()
    assert not at.error
    assert "Override recorded" in at.success[0].value
    at.run()
    assert "Overridden to **Green**" in texts(at)
    with db.read_session(engine) as session:
        latest = session.exec(
            select(ConfidenceOverride).order_by(ConfidenceOverride.id.desc())  # type: ignore[union-attr]
        ).first()
        assert latest is not None and latest.set_by == MANAGER and latest.rating == "green"


def test_leadership_cannot_override_the_rating(app_as: Callable[[str], Any]) -> None:
    at = app_as(LEADER)
    at.switch_page("pages/programme.py").run()
    assert not [e for e in at.expander if "Override" in e.label]
