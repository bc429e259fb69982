"""Manage → Programme details, the form that starts a new programme: a code, a title, one of
the viewer's organisations and its dates. The programme opens with its six stages."""

import datetime as dt
from typing import Any

import streamlit as st
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from tracker.access import Viewer
from tracker.errors import PermissionDeniedError
from tracker.models import ProgrammeCreate
from tracker.safe_text import plain_text
from tracker.services import programmes, records

DATES = {"min_value": dt.date(2000, 1, 1), "max_value": dt.date(2100, 12, 31)}


def new_programme_form(
    viewer: Viewer, organisations: dict[int, str], labels: dict[str, str]
) -> None:
    """An expander holding the form; on a save, the new programme opens."""
    own = [org_id for org_id in organisations if org_id in viewer.organisation_ids]
    with st.expander("Start a new programme", icon=":material/add:"):
        manage.seed("programme_new_start", common.today())
        manage.seed("programme_new_end", common.today() + dt.timedelta(days=730))
        with st.form("programme_new"):
            new_code = st.text_input(
                "Code",
                key="programme_new_code",
                max_chars=20,
                help="A short reference people type and import by, in capital letters, digits and "
                "hyphens, e.g. NCC-CARE-RECORD. It cannot be changed later.",
            )
            new_title = st.text_input("Title", key="programme_new_title", max_chars=160)
            new_owner = st.selectbox(
                "Owning organisation",
                own,
                format_func=organisations.__getitem__,
                key="programme_new_owner",
            )
            left, right = st.columns(2)
            new_start = left.date_input(
                "Start date", key="programme_new_start", format="DD/MM/YYYY", **DATES
            )
            new_end = right.date_input(
                "Target end date", key="programme_new_end", format="DD/MM/YYYY", **DATES
            )
            if st.form_submit_button("Create programme", icon=":material/add:"):
                details = {"title": new_title.strip(), "organisation_id": new_owner}
                details |= {"start_date": new_start, "target_end_date": new_end}
                create(viewer, new_code.strip().upper(), details, labels)


def create(viewer: Viewer, code: str, details: dict[str, Any], labels: dict[str, str]) -> None:
    """Create the programme `code` with `details`; on success open it and say so."""

    def create_programme(session: Session) -> str:
        if details["organisation_id"] not in viewer.organisation_ids:
            raise PermissionDeniedError(
                "organisation_id", "you can start programmes only for your organisations"
            )
        new = records.validated(ProgrammeCreate, {"code": code, **details})
        return programmes.create_programme(session=session, viewer=viewer, data=new).title

    created = manage.save(viewer, create_programme, labels=labels)
    if created is not None:
        manage.open_programme(code)
        for key in ("programme_new_code", "programme_new_title"):
            st.session_state.pop(key, None)
        manage.flash(
            f"Created {plain_text(created)} ({plain_text(code)}) with its six stages. "
            "Fill in its details below."
        )
        st.rerun()
