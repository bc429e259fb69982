"""Manage: Stages. The six stages of the open programme in order; for the chosen stage, its
narrative (Markdown, with a preview), planned and actual dates, and its exit criteria."""

import datetime as dt
from collections.abc import Iterable

import pandas as pd
import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _manage_tables as tables
from tracker import db, permissions, read, words
from tracker.models import ExitCriterionUpdate, Stage, StageRecordUpdate
from tracker.safe_text import plain_text, safe_markdown
from tracker.services import programmes
from tracker.stages import STAGE_INFO

LABELS = {
    "narrative": "Narrative",
    "planned_start": "Planned start",
    "planned_end": "Planned end",
    "actual_start": "Actual start",
    "actual_end": "Actual end",
    "text": "Exit criterion",
}
DATES = {"min_value": dt.date(2000, 1, 1), "max_value": dt.date(2100, 12, 31)}


def stage_label(key: str) -> str:
    return words.stage_label(key, separator=". ")


def span(start: object, end: object) -> str:
    if start is None and end is None:
        return "not set"
    return f"{words.date_text(start)} to {words.date_text(end)}"  # type: ignore[arg-type]


def forget_all(record_keys: Iterable[tuple[str, list[str]]]) -> None:
    for record_key, widget_keys in record_keys:
        manage.forget(record_key, widget_keys)


viewer, choice = manage.open_page("Stages")
pid = choice.programme_id
engine = common.get_engine()

overview = common.cached(read.programme.stage_summary, programme_id=pid, today=common.today())
st.dataframe(
    pd.DataFrame(
        {
            "Stage": [words.stage_heading(row.stage) for row in overview.itertuples()],
            "Planned": [span(r.planned_start, r.planned_end) for r in overview.itertuples()],
            "Actual": [span(r.actual_start, r.actual_end) for r in overview.itertuples()],
            "Exit criteria met": [
                f"{r.criteria_met} of {r.criteria}" if r.criteria else "none set"
                for r in overview.itertuples()
            ],
        }
    ),
    hide_index=True,
    width="stretch",
    alt="The six stages of this programme in order, with their dates and exit criteria met",
)

stage = st.segmented_control(
    "Stage to edit",
    [s.value for s in Stage],
    format_func=stage_label,
    default=Stage.vision.value,
    required=True,
    key="stages_stage",
    bind="query-params",
)
info = STAGE_INFO[Stage(stage)]
with db.read_session(engine) as session:
    permissions.require_programme(session, viewer, permissions.Action.programme_edit, pid)
    record = read.manage.stage_record(session=session, programme_id=pid, stage=info.stage)
    assert record.id is not None
    criteria = read.manage.exit_criteria(session=session, stage_record_id=record.id)
rid = record.id

st.header(words.stage_heading(info.stage))
st.caption(f"What done looks like: {info.done_looks_like}")

# --- The stage: narrative and dates -----------------------------------------------------------
current = {
    "narrative": record.narrative,
    "planned_start": record.planned_start,
    "planned_end": record.planned_end,
    "actual_start": record.actual_start,
    "actual_end": record.actual_end,
}
record_key = f"stage_{rid}"
keys = manage.seed_form("stages", rid, current)
form = manage.record_form(
    viewer,
    pid,
    record_key,
    record.version,
    programmes.update_stage_record,
    StageRecordUpdate,
    stage_record_id=rid,
)

write, preview = st.columns(2)
write.text_area(
    "Narrative (Markdown)",
    key=keys["narrative"],
    height=320,
    max_chars=20000,
    help="The story of this stage for staff and leadership: why, what changes, what has "
    "happened. Markdown works: **bold**, lists with -, links as [text](https://...).",
)
with preview:
    st.markdown("**Preview**")
    st.caption("Updates when you click outside the box or press Ctrl+Enter.")
    with st.container(border=True):
        text = st.session_state[keys["narrative"]]
        hosts = common.allowed_image_hosts()
        shown = safe_markdown(text, allowed_image_hosts=hosts) if text.strip() else ""
        st.markdown(shown or "_Nothing written yet._")

with st.form(f"stages_form_{rid}"):
    columns = st.columns(4)
    for column, name in zip(columns, list(current)[1:], strict=True):
        column.date_input(LABELS[name], key=keys[name], format="DD/MM/YYYY", **DATES)
    st.caption("An end date may not be before its start date. Leave a date empty if not known.")
    submitted = st.form_submit_button("Save narrative and dates", type="primary")

if submitted:
    changes = {name: st.session_state[key] for name, key in keys.items()}
    if form.save(changes, labels=LABELS):
        what = [LABELS[name].lower() for name in current if changes[name] != current[name]]
        manage.flash(
            f"Saved stage {info.number}, {info.title}: {', '.join(what) or 'nothing had changed'}."
        )
        st.rerun()
manage.reload_button(record_key, keys.values(), key=f"stages_reload_{rid}")

# --- Exit criteria: a checklist -------------------------------------------------------------
st.subheader("Exit criteria")
met_keys = {criterion.id: f"stages_met_{criterion.id}" for criterion in criteria}
versions = {}
for criterion in criteria:
    manage.seed(met_keys[criterion.id], criterion.met)
    versions[criterion.id] = manage.built_from(f"criterion_{criterion.id}", criterion.version)
texts = {criterion.id: criterion.text for criterion in criteria}
met_now = {criterion.id: criterion.met for criterion in criteria}
delete_key = f"stages_delete_{rid}"

if not criteria:
    st.info("No exit criteria yet. Add what has to be true before this stage is done.")
else:
    with st.form(f"stages_criteria_{rid}"):
        for criterion in criteria:
            st.checkbox(plain_text(criterion.text), key=met_keys[criterion.id])
        st.multiselect(
            "Delete these criteria",
            **tables.choices(texts),
            key=delete_key,
            help="They are deleted when you save the checklist.",
        )
        ticked = st.form_submit_button("Save checklist", type="primary")
    if ticked:
        doomed = set(st.session_state[delete_key])
        flips = {
            cid: st.session_state[key]
            for cid, key in met_keys.items()
            if cid not in doomed and st.session_state[key] != met_now[cid]
        }

        def save_checklist(session: Session) -> dict[int, int]:
            permissions.require_programme(session, viewer, permissions.Action.programme_edit, pid)
            for cid in doomed:
                programmes.delete_exit_criterion(
                    session=session, viewer=viewer, criterion_id=cid, expected_version=versions[cid]
                )
            return {
                cid: programmes.update_exit_criterion(
                    session=session,
                    viewer=viewer,
                    criterion_id=cid,
                    data=ExitCriterionUpdate(version=versions[cid], met=met),
                ).version
                for cid, met in flips.items()
            }

        new_versions = manage.save(viewer, save_checklist, labels=LABELS)
        if new_versions is not None:
            for cid, new in new_versions.items():
                manage.saved(f"criterion_{cid}", new)
            forget_all((f"criterion_{cid}", [met_keys[cid]]) for cid in doomed)
            st.session_state.pop(delete_key, None)
            done = sum(flips.values())
            parts = [f"{done} ticked", f"{len(flips) - done} unticked", f"{len(doomed)} deleted"]
            counts = [part for part in parts if not part.startswith("0 ")]
            manage.flash(f"Saved exit criteria: {', '.join(counts) or 'nothing had changed'}.")
            st.rerun()
    st.button(
        "Reload the checklist (discard my unsaved ticks)",
        key=f"stages_criteria_reload_{rid}",
        on_click=forget_all,
        args=([(f"criterion_{cid}", [key]) for cid, key in met_keys.items()],),
        icon=":material/refresh:",
    )

new_key = f"stages_new_{rid}"
with st.form(f"stages_add_{rid}"):
    st.text_input(
        "New exit criterion",
        key=new_key,
        max_chars=300,
        help="Something that must be true before this stage is done, e.g. 'Training delivered "
        "to every team affected'.",
    )
    added = st.form_submit_button("Add criterion", icon=":material/add:")
if added:
    new_text = st.session_state[new_key].strip()

    def add(session: Session) -> int | None:
        permissions.require_programme(session, viewer, permissions.Action.programme_edit, pid)
        return programmes.add_exit_criterion(
            session=session, viewer=viewer, stage_record_id=rid, text=new_text
        ).id

    if manage.save(viewer, add, labels=LABELS) is not None:
        st.session_state.pop(new_key, None)
        manage.flash(f"Added the exit criterion '{plain_text(new_text)}' to stage {info.number}.")
        st.rerun()
