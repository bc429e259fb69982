"""Streamlit glue the Manage pages share: who may use them, which programme is open (kept in the
URL), the version each form was built from (kept in session state, RELIABILITY.md #8), and
saving with a message a person can act on. Domain rules live in tracker/."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from sqlmodel import Session, SQLModel

from pages import _common as common
from tracker import db, permissions
from tracker.access import Viewer, record_refusal
from tracker.errors import ConflictError, DomainError
from tracker.models import Role
from tracker.safe_text import plain_text
from tracker.services import records
from tracker.words import key_words
from tracker.workspace import ProgrammeChoice, TableEditError, managed_programmes

T = TypeVar("T")

# Session-state keys, one place. Versions: record key -> the version its form was built from.
VERSIONS_KEY = "manage_built_from"
SNAPSHOTS_KEY = "manage_snapshots"
FLASH_KEY = "manage_flash"
PROGRAMME_CHOICE_KEY = "manage_programme_choice"


def require_manager() -> Viewer:
    """Every Manage page calls this first: managers and administrators only."""
    return common.require_viewer(Role.admin, Role.manager)


def asked_programme(
    viewer: Viewer, codes: Collection[str], *, refused: str, warning: str
) -> str | None:
    """The programme code the URL asks for (?programme=CODE), or None when it names none or one
    not in `codes`: that refusal is recorded (`refused` says what was asked for) and `warning`
    is shown."""
    asked = st.query_params.get("programme")
    if asked is not None and asked not in codes:
        record_refusal(viewer.email, refused.format(code=repr(asked)))
        st.warning(warning)
        return None
    return asked


def programme_selectbox(titles: dict[str, str], asked: str | None, *, key: str) -> str:
    """A selector of programmes by title and code, opening on `asked` (else the first), kept in
    the URL so a link reopens the same one. The Manage pages and the programme dashboard."""
    codes = list(titles)
    code: str = st.selectbox(
        "Programme",
        codes,
        index=codes.index(asked) if asked else 0,
        format_func=lambda c: f"{titles[c]} ({c})",
        key=key,
    )
    st.query_params["programme"] = code
    return code


def choose_programme(viewer: Viewer) -> ProgrammeChoice:
    """The programme this page works on: a selector kept in the URL (?programme=CODE), so a
    link reopens it. A code the viewer may not change gets a short message and the first one."""
    with db.read_session(common.get_engine()) as session:
        choices = managed_programmes(session=session, viewer=viewer)
    if not choices:
        st.info("There are no programmes in your organisations yet.")
        st.stop()
    by_code = {choice.code: choice for choice in choices}
    asked = asked_programme(
        viewer,
        by_code,
        refused="programme {code} to change",
        warning="That link names a programme that does not exist or is not yours to change. "
        "Showing the first one instead.",
    )
    titles = {code: choice.title for code, choice in by_code.items()}
    return by_code[programme_selectbox(titles, asked, key=PROGRAMME_CHOICE_KEY)]


def open_page(title: str) -> tuple[Viewer, ProgrammeChoice]:
    """The head of a Manage page that works on one programme: managers and administrators only,
    its title, the message left by the last save, and the programme selector."""
    viewer = require_manager()
    st.title(title)
    show_flash()
    return viewer, choose_programme(viewer)


def listing(
    loader: Callable[..., pd.DataFrame], programme_id: int, *, header: str, empty: str
) -> pd.DataFrame:
    """The programme's records through the cached `loader`, under `header`; when there are none,
    `empty` says so (the page shows the records themselves)."""
    table = common.cached(loader, programme_id=programme_id)
    st.header(header)
    if table.empty:
        st.info(empty)
    return table


def may_see_people(viewer: Viewer, programme_id: int) -> bool:
    """Whether the viewer may see the programme's stakeholders (permissions.may_see_names, the
    rule the reads of people follow)."""
    with db.read_session(common.get_engine()) as session:
        return permissions.may_see_names(session, viewer, programme_id)


def require_people(viewer: Viewer, programme_id: int) -> None:
    """Stop the page with a plain message when the viewer may not see this programme's people
    (a partner without a data-sharing agreement)."""
    if not may_see_people(viewer, programme_id):
        record_refusal(viewer.email, f"the people of programme {programme_id}")
        st.info(permissions.PEOPLE_HELD_BY_OWNER, icon=":material/lock:")
        st.stop()


def open_programme(code: str) -> None:
    """Open this programme on the next run (after creating or importing it)."""
    st.session_state.pop(PROGRAMME_CHOICE_KEY, None)
    st.query_params["programme"] = code


def seed(key: str, value: Any) -> None:
    """Give a widget its starting value from the database, once: after that the widget keeps
    what the user typed, even when the record changes underneath (their draft is never lost)."""
    if key not in st.session_state:
        st.session_state[key] = value


def seed_form(prefix: str, suffix: object, values: Mapping[str, Any]) -> dict[str, str]:
    """The widget keys of a form's fields, {field: "<prefix>_<field>_<suffix>"}, each seeded once
    from `values` (see seed)."""
    keys = {name: f"{prefix}_{name}_{suffix}" for name in values}
    for name, value in values.items():
        seed(keys[name], value)
    return keys


def built_from(record_key: str, version: int) -> int:
    """The version of the record this form was first built from; saved edits are checked
    against it, not against whatever the database holds at the moment of saving."""
    versions: dict[str, int] = st.session_state.setdefault(VERSIONS_KEY, {})
    return versions.setdefault(record_key, version)


def saved(record_key: str, version: int) -> None:
    """After a save: the form now stands on the version just written."""
    st.session_state.setdefault(VERSIONS_KEY, {})[record_key] = version


def forget(record_key: str, widget_keys: Iterable[str] = ()) -> None:
    """Drop this form's draft and the version it was built from: the next run shows the
    record as it is in the database."""
    st.session_state.setdefault(VERSIONS_KEY, {}).pop(record_key, None)
    st.session_state.setdefault(SNAPSHOTS_KEY, {}).pop(record_key, None)
    for key in widget_keys:
        st.session_state.pop(key, None)


def reload_button(record_key: str, widget_keys: Iterable[str] = (), *, key: str) -> None:
    """A button that discards this form's draft and shows the record as saved now."""
    st.button(
        "Reload (discard my unsaved changes)",
        key=key,
        on_click=forget,
        args=(record_key, tuple(widget_keys)),
        icon=":material/refresh:",
    )


def snapshot(record_key: str, loader: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table an editor was built from, kept until it is saved or reloaded, so edits stay
    on screen and each row is checked against the version it had when the table was opened."""
    snapshots: dict[str, pd.DataFrame] = st.session_state.setdefault(SNAPSHOTS_KEY, {})
    if record_key not in snapshots:
        snapshots[record_key] = loader()
    return snapshots[record_key]


def flash(message: str) -> None:
    """A confirmation to show after the rerun that follows a save."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def field_name(field: str | None, labels: dict[str, str] | None = None) -> str:
    if not field:
        return ""
    return (labels or {}).get(field, key_words(field))


def save(
    viewer: Viewer,
    action: Callable[[Session], T],
    *,
    labels: dict[str, str] | None = None,
) -> T | None:
    """Run `action` in one audited transaction as the viewer. A refusal is shown here, next to
    the form, naming the field; nothing is written and the form keeps what the user typed (the
    page's reload_button loads the other person's version after a conflict)."""
    try:
        with db.write_session(common.get_engine(), actor=viewer.email) as session:
            return action(session)
    except TableEditError as error:
        st.error(plain_text(error.reason), icon=":material/error:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Row": problem.row,
                        "Column": field_name(problem.field, labels) or "(whole row)",
                        "Problem": problem.reason,
                    }
                    for problem in error.problems
                ]
            ),
            hide_index=True,
        )
    except ConflictError as error:
        st.error(plain_text(error.reason), icon=":material/sync_problem:")
    except DomainError as error:
        where = field_name(error.field, labels)
        # Reasons can quote what the user typed (a name, a title): never as Markdown.
        reason = plain_text(error.reason)
        st.error(f"Not saved. {plain_text(where)}: {reason}" if where else f"Not saved. {reason}")
    return None


@dataclass(frozen=True)
class RecordForm:
    """A form that changes one record of the programme through its update service, standing on
    the version the form was built from (RELIABILITY.md #8)."""

    viewer: Viewer
    programme_id: int
    record_key: str
    version: int  # the version the form was built from
    service: Callable[..., Any]  # service(session=, viewer=, data=, **record_id)
    model: type[SQLModel]  # the service's data= input, e.g. MetricUpdate
    record_id: Mapping[str, int]  # e.g. {"metric_id": 3}

    def update(self, session: Session, values: Mapping[str, Any]) -> int:
        """Check again that the viewer manages the programme, then change the record to
        `values`: its new version."""
        permissions.require_programme(
            session, self.viewer, permissions.Action.programme_edit, self.programme_id
        )
        data = records.validated(self.model, {**values, "version": self.version})
        changed = self.service(session=session, viewer=self.viewer, data=data, **self.record_id)
        return int(changed.version)

    def save(self, values: Mapping[str, Any], *, labels: dict[str, str]) -> bool:
        """Save `values` (a refusal is shown here, naming the field in `labels`' words); after a
        save the form stands on the version just written."""
        new_version = save(self.viewer, lambda session: self.update(session, values), labels=labels)
        if new_version is None:
            return False
        saved(self.record_key, new_version)
        return True


def record_form(
    viewer: Viewer,
    programme_id: int,
    record_key: str,
    version: int,
    service: Callable[..., Any],
    model: type[SQLModel],
    /,
    **record_id: int,
) -> RecordForm:
    """The form of one record now at `version`, built from the version it was first shown at."""
    built = built_from(record_key, version)
    return RecordForm(viewer, programme_id, record_key, built, service, model, record_id)
