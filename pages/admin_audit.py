"""Admin: Audit trail. Who changed what and when, newest first: filter by person, record type,
record and dates, read each change as "field: before → after", and download what the filter
shows as a CSV file. A second tab lists the attempts to sign in."""

import datetime as dt
import math

import streamlit as st

from pages import _common as common
from pages import _manage as manage
from tracker import db, read, words
from tracker.errors import DomainError
from tracker.io import audit_trail
from tracker.models import Role, SignInOutcome
from tracker.safe_text import plain_text

PAGE_SIZE = 50
SIGN_IN_LIMIT = 200
DEFAULT_DAYS = 30


def record_words(record_type: str) -> str:
    return words.key_words(record_type) if record_type else "Any"


viewer = common.require_viewer(Role.admin)
st.title("Audit trail")
st.caption(
    "Every change anyone makes is recorded in the same transaction as the change, and the "
    "tracker cannot edit these records. An erasure replaces the person's data in the copies "
    "below with [erased] and is recorded only as having happened."
)
engine = common.get_engine()
today = common.today()
changes_tab, signins_tab = st.tabs(["Changes", "Sign-in attempts"])

# Sign-ins are filled in first: the changes tab may stop the page when its dates are wrong.
with signins_tab:
    st.caption(
        "Every attempt to sign in, successful or not, for people in your organisations and for "
        "addresses with no account (someone guessing shows up here). The tracker writes this "
        "log itself and never changes it."
    )
    left, middle, right = st.columns(3)
    email = left.text_input("E-mail address", key="audit_signin_email", max_chars=254)
    outcome = middle.selectbox(
        "Outcome",
        [None, *SignInOutcome],
        format_func=lambda o: "Any" if o is None else o.label,
        key="audit_signin_outcome",
    )
    manage.seed("audit_signin_dates", (today - dt.timedelta(days=DEFAULT_DAYS), today))
    signin_dates = right.date_input("Dates (UTC)", key="audit_signin_dates", format="DD/MM/YYYY")
    tried = read.admin.SignInFilter(
        since=min(signin_dates, default=today),
        until=max(signin_dates, default=today),
        email=email or None,
        outcome=outcome,
    )
    with db.read_session(engine) as session:
        attempts = read.admin.sign_in_count(session=session, viewer=viewer, where=tried)
        newest = read.admin.sign_in_attempts(
            session=session, viewer=viewer, where=tried, limit=SIGN_IN_LIMIT
        )
    shown_count = f"; showing the newest {len(newest)}" if attempts > len(newest) else ""
    st.markdown(
        f"**{attempts} sign-in {'attempt' if attempts == 1 else 'attempts'}**{shown_count}."
    )
    common.table(
        newest,
        {"when": "When (UTC)", "email": "E-mail address", "method": "How", "outcome": "Outcome"},
    )

with changes_tab:
    with db.read_session(engine) as session:
        actors = read.admin.audit_actors(session=session, viewer=viewer)
        record_types = read.admin.audit_record_types(session=session, viewer=viewer)

    manage.seed("audit_dates", (today - dt.timedelta(days=DEFAULT_DAYS), today))
    left, middle, right = st.columns(3)
    actor = left.selectbox(
        "Person", ["", *actors], format_func=lambda a: a or "Anyone", key="audit_actor"
    )
    record_type = middle.selectbox(
        "Record type", ["", *record_types], format_func=record_words, key="audit_record_type"
    )
    record_id = right.text_input(
        "Record id",
        key="audit_record_id",
        max_chars=60,
        help="The number of one record, e.g. 12. Links between two records read like 12/7.",
    )
    dates = st.date_input(
        "Dates (UTC)",
        key="audit_dates",
        format="DD/MM/YYYY",
        help=f"From the first day to the last, both included; at first the last {DEFAULT_DAYS}.",
    )
    since, until = (dates[0], dates[-1]) if dates else (today, today)

    where = read.admin.AuditFilter(
        since=since,
        until=until,
        actor=actor or None,
        record_type=record_type or None,
        record_id=record_id or None,
    )
    try:
        with db.read_session(engine) as session:
            total = read.admin.audit_count(session=session, viewer=viewer, where=where)
    except DomainError as error:
        st.error(plain_text(error.reason))
        st.stop()

    pages = max(1, math.ceil(total / PAGE_SIZE))
    # Narrower filters can leave fewer pages than the one open: show the last.
    if st.session_state.get("audit_page", 1) > pages:
        st.session_state["audit_page"] = pages
    page = st.number_input(
        f"Page (of {pages})", min_value=1, max_value=pages, step=1, key="audit_page"
    )
    with db.read_session(engine) as session:
        events = read.admin.audit_events(
            session=session,
            viewer=viewer,
            where=where,
            limit=PAGE_SIZE,
            offset=(int(page) - 1) * PAGE_SIZE,
        )

    first = (int(page) - 1) * PAGE_SIZE + 1
    st.markdown(
        f"**{total} {'event matches' if total == 1 else 'events match'}**, newest first"
        + (f"; showing {first} to {first + len(events) - 1}." if total else ".")
    )
    common.table(
        events,
        {
            "when": "When (UTC)",
            "actor": "Person",
            "action": "Action",
            "record_type": "Record type",
            "record_id": "Record id",
            "changes": st.column_config.TextColumn(
                "Changes", help="Each changed field as before → after.", width="large"
            ),
        },
    )

    with db.read_session(engine) as session:
        everything = read.admin.audit_events(session=session, viewer=viewer, where=where)
    st.download_button(
        f"Download these {total} events (CSV)",
        data=audit_trail.audit_csv(everything),
        file_name=f"audit-trail-{since.isoformat()}-to-{until.isoformat()}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="audit_download",
        disabled=not total,
        help="Every event the filter matches, not only this page. Opens in a spreadsheet.",
    )
