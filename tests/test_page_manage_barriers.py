"""Manage → Barriers (pages/manage_barriers.py): the bulk editor of risks and issues; and the
outcome pages refuse leadership and staff."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from tests.conftest import sign_in
from tests.factories import SYSTEM
from tests.manage_screen import ADA, MAYA, NO_EDITS, by_id, first_programme, open_page, texts
from tests.screen import shown_all
from tracker import db, read
from tracker.models import (
    Barrier,
    BarrierUpdate,
)
from tracker.services import barriers, records

ROOT = Path(__file__).resolve().parents[1]
OTHER = "other@example.org"
BARRIERS = "pages/manage_barriers.py"
METRICS = "pages/manage_metrics.py"
NARRATIVES = "pages/manage_narratives.py"


def barrier_rows(engine: Engine, programme_id: int) -> pd.DataFrame:
    with db.read_session(engine) as session:
        return read.manage.barrier_table(session=session, programme_id=programme_id)


def edit_barriers(at: AppTest, programme_id: int, changes: dict[str, Any]) -> AppTest:
    # As in the browser: the editor reruns the page on each edit, which enables Save.
    at.session_state[f"barriers_editor_{programme_id}"] = NO_EDITS | changes
    at.run()
    return at.button(key="barriers_save").click().run()


@pytest.mark.parametrize("email", [MAYA, ADA])
def test_the_barriers_page_lists_the_programmes_barriers_highest_score_first(
    app_as: Callable[[str], AppTest], demo_engine: Engine, email: str
) -> None:
    at = open_page(app_as, BARRIERS, email)
    programme = first_programme(demo_engine, email)
    shown = at.dataframe(key=f"barriers_editor_{programme.programme_id}").value
    expected = barrier_rows(demo_engine, programme.programme_id)
    assert list(shown["title"]) == list(expected["title"]) and len(shown) > 0
    assert list(shown["score"]) == sorted(shown["score"], reverse=True)
    assert list(shown["score"]) == list(shown["likelihood"] * shown["impact"])


def test_editing_adding_and_deleting_barriers_saves_them_all_and_confirms(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    before = barrier_rows(demo_engine, programme_id)
    at = edit_barriers(
        at,
        programme_id,
        {
            "edited_rows": {0: {"likelihood": 2, "owner": ""}},
            "added_rows": [
                {"title": "Union ballot on new rotas", "category": "cultural", "likelihood": 3}
                | {"impact": 4, "kind": "issue"}
            ],
            "deleted_rows": [len(before) - 1],
        },
    )
    assert not at.exception, at.exception
    assert texts(at.success) == ["Saved barriers: 1 added, 1 changed, 1 deleted."]
    edited = by_id(demo_engine, Barrier, int(before["id"][0]))
    assert (edited.likelihood, edited.owner, edited.version) == (2, "", 2)
    after = barrier_rows(demo_engine, programme_id)
    assert int(before["id"].iloc[-1]) not in set(after["id"])
    added = after[after["title"] == "Union ballot on new rotas"].iloc[0]
    assert (added["kind"], added["category"], added["score"], added["status"]) == (
        "issue",
        "cultural",
        12,
        "open",
    )


def test_a_likelihood_of_7_is_refused_with_its_row_and_nothing_is_saved(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    before = barrier_rows(demo_engine, programme_id)
    at = edit_barriers(
        at,
        programme_id,
        {"edited_rows": {0: {"title": "A fine new title"}, 1: {"likelihood": 7}}},
    )
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Nothing was saved: 1 row needs correcting first."]
    problems = at.dataframe[-1].value
    assert problems.to_dict("records") == [
        {"Row": 2, "Column": "Likelihood", "Problem": "must be 5 or less"}
    ]
    pd.testing.assert_frame_equal(barrier_rows(demo_engine, programme_id), before)


def test_a_barrier_someone_else_saved_meanwhile_is_refused_and_the_draft_kept(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    barrier_id = int(barrier_rows(demo_engine, programme_id)["id"][0])
    with db.write_session(demo_engine, actor=OTHER) as session:
        barriers.update_barrier(
            session=session,
            viewer=SYSTEM,
            barrier_id=barrier_id,
            data=records.validated(BarrierUpdate, {"impact": 1, "version": 1}),
        )
    draft = {"edited_rows": {0: {"mitigation": "My own plan"}}}
    at = edit_barriers(at, programme_id, draft)
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["Nothing was saved: 1 row needs correcting first."]
    assert "Someone else saved this barrier" in at.dataframe[-1].value["Problem"][0]
    theirs = by_id(demo_engine, Barrier, barrier_id)
    assert (theirs.impact, theirs.version) == (1, 2)
    assert theirs.mitigation != "My own plan"
    assert at.session_state[f"barriers_editor_{programme_id}"]["edited_rows"] == {
        0: {"mitigation": "My own plan"}
    }

    at.button(key="barriers_reload").click().run()
    reloaded = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert int(reloaded.set_index("id").loc[barrier_id, "impact"]) == 1


def test_barriers_can_be_filtered_by_status_and_category(
    app_as: Callable[[str], AppTest], demo_engine: Engine
) -> None:
    at = open_page(app_as, BARRIERS)
    programme_id = first_programme(demo_engine).programme_id
    every = barrier_rows(demo_engine, programme_id)
    at.multiselect(key="barriers_status_filter").set_value(["mitigating"]).run()
    shown = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert set(shown["status"]) == {"mitigating"}
    assert len(shown) == (every["status"] == "mitigating").sum() < len(every)
    category = str(shown["category"][0])
    at.multiselect(key="barriers_category_filter").set_value([category]).run()
    shown = at.dataframe(key=f"barriers_editor_{programme_id}").value
    assert set(shown["category"]) == {category} and set(shown["status"]) == {"mitigating"}


@pytest.mark.parametrize("page", [BARRIERS, METRICS, NARRATIVES])
@pytest.mark.parametrize("email", ["lena.leader@demo.example", "sam.staff@demo.example"])
def test_leadership_and_staff_cannot_reach_the_outcome_pages(
    app_as: Callable[[str], AppTest], page: str, email: str
) -> None:
    at = app_as(email)
    with pytest.raises(ValueError):
        at.switch_page(page).run()


@pytest.mark.parametrize("page", [BARRIERS, METRICS, NARRATIVES])
@pytest.mark.parametrize("email", ["lena.leader@demo.example", "sam.staff@demo.example"])
def test_the_outcome_pages_stop_for_leadership_and_staff_who_open_them_directly(
    demo_url: str, page: str, email: str
) -> None:
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    sign_in(at, email)
    at.run()
    assert not at.exception, at.exception
    assert shown_all(at.error) == ["This page is not available to your role."]
    assert not at.title and not at.dataframe
