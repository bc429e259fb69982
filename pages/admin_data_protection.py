"""Admin: Data protection. For one stakeholder: download everything held about them (subject
access) or erase them (right to erasure). For the whole tracker: how long stakeholder data is
kept after a programme closes, and anonymising what is past that."""

from collections.abc import Callable

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pages import _common as common
from pages import _manage as manage
from pages import _signin as signin_page
from tracker import clock, db, privacy, read, signin, words
from tracker.errors import DomainError, PermissionDeniedError
from tracker.io import subject_access
from tracker.models import Role
from tracker.safe_text import plain_text

LAST_ERASURE = "dp_last_erasure"
ERASURE_TEXT = (
    "Erasure anonymises the person everywhere, in one action: their name becomes "
    '"Erased stakeholder" and a number; their role, notes and relationship owner are cleared; '
    "and their name (whole, and each part of it: first name, surname), role and notes are "
    "replaced by [erased] in every other text of their programme's data (an engagement "
    "summary, a narrative, a barrier, another stakeholder's notes) and in every copy the audit "
    "trail keeps of it. Their numbers stay (stance, influence, interest, assessments), so "
    "counts, the stance index and trends are unchanged. The audit trail records only that an "
    "erasure happened. It cannot be undone: if the person also asked for their data, download "
    "the subject access export first."
)


def subject_access_download(
    engine: Engine, token: object, stakeholder_id: int, file_format: privacy.ExportFormat
) -> Callable[[], bytes]:
    """What a download button calls when it is clicked (in a worker thread, without this
    script's session state): check the sign-in session afresh (live, an administrator), then
    make the file and record it in the audit trail. Nothing is made before the click."""

    def make() -> bytes:
        with db.read_session(engine) as session:
            check = signin.check_session(
                session=session,
                token=str(token or ""),
                now=clock.now(),
                timeouts=signin.Timeouts.from_environment(),
            )
        live = check.viewer
        if live is None or live.role is not Role.admin:
            raise PermissionDeniedError(None, "Sign in again to download this file.")
        export = subject_access.subject_access_file(
            engine, viewer=live, stakeholder_id=stakeholder_id, file_format=file_format
        )
        return export.data

    return make


viewer = common.require_viewer(Role.admin)
st.title("Data protection")
manage.show_flash()
erased = st.session_state.pop(LAST_ERASURE, None)
if erased:
    st.dataframe(erased, hide_index=True)
engine = common.get_engine()
today = common.today()
chooser = st.container()
access_tab, erasure_tab, retention_tab = st.tabs(["Subject access", "Erasure", "Retention"])

# Retention is about every programme, so it is filled in before the stakeholder is chosen.
with retention_tab:
    with db.read_session(engine) as session:
        months = privacy.retention_months(session=session)
    st.markdown(
        f"Stakeholder data is kept for **{months} months** after a programme closes. A "
        "retention run then anonymises the stakeholders of every programme closed longer ago, "
        "as an erasure does. The period covers every organisation."
    )
    manage.seed("dp_retention_months", months)
    with st.form("dp_retention_setting"):
        st.number_input(
            "Keep stakeholder data for this many months after a programme closes",
            min_value=privacy.RETENTION_MONTHS_MIN,
            max_value=privacy.RETENTION_MONTHS_MAX,
            step=1,
            key="dp_retention_months",
        )
        if st.form_submit_button("Save retention period"):
            wanted = int(st.session_state["dp_retention_months"])

            def set_months(session: Session) -> int:
                return privacy.set_retention_months(session=session, viewer=viewer, months=wanted)

            if manage.save(viewer, set_months, labels={"months": "Retention period"}):
                manage.flash(f"Saved: stakeholder data is kept for {wanted} months.")
                st.rerun()

    if st.toggle("Preview a retention run", key="dp_retention_preview"):
        with db.read_session(engine) as session:
            preview = privacy.retention_preview(session=session, viewer=viewer, today=today)
        st.markdown(plain_text(preview.report.describe()))
        if not preview.programmes.empty:
            st.dataframe(
                preview.programmes.assign(
                    closed_on=preview.programmes["closed_on"].map(words.date_text)
                ),
                column_config={
                    "code": "Code",
                    "title": "Programme",
                    "organisation": "Owned by",
                    "closed_on": "Closed on",
                    "stakeholders": "Stakeholders to anonymise",
                },
                hide_index=True,
                width="stretch",
            )
        if preview.deleted:
            st.caption(
                f"{preview.deleted} of them were deleted earlier; only audit copies of their "
                "records remain, and those are anonymised too."
            )
        if preview.outside:
            st.warning(
                "Some of these programmes belong to organisations you do not administer, so "
                "only an administrator of all of them can run retention.",
                icon=":material/lock:",
            )
        elif preview.report.stakeholder_ids:
            with st.form("dp_retention_run"):
                count = len(preview.report.stakeholder_ids)
                confirmed = st.checkbox(
                    f"I understand: anonymise these {count} stakeholder(s) now. This cannot be "
                    "undone.",
                    key="dp_retention_confirm",
                )
                if st.form_submit_button("Run retention now", type="primary"):
                    if not confirmed:
                        st.error("Nothing was anonymised. Tick the box to confirm first.")
                    else:
                        try:
                            report = privacy.apply_retention(engine, viewer=viewer, today=today)
                        except DomainError as error:
                            st.error(f"Nothing was anonymised. {plain_text(error.reason)}")
                        else:
                            st.session_state.pop("dp_retention_confirm", None)
                            manage.flash(plain_text(report.describe()))
                            st.rerun()

with chooser:
    choice = manage.choose_programme(viewer)
    try:
        with db.read_session(engine) as session:
            names = read.people.stakeholder_names(
                session=session, viewer=viewer, programme_id=choice.programme_id
            )
    except DomainError as error:
        st.error(plain_text(error.reason))
        st.stop()
    if not names:
        st.info("This programme has no stakeholders.")
        st.stop()
    sid = st.selectbox(
        "Stakeholder",
        list(names),
        format_func=names.__getitem__,
        key=f"dp_stakeholder_{choice.programme_id}",
    )
name = names[sid]

with access_tab:
    st.caption(
        "Under UK GDPR a person can ask for everything held about them. The export holds their "
        "record, every assessment, the engagements they attended, their influence links, the "
        "milestones that depend on them, the programme's lawful basis, the audit trail about "
        "them, and every passage elsewhere in the programme's data (and its audit copies) that "
        'names them: what an erasure would rewrite. Other people appear only as "another '
        'stakeholder". The file is made when you click, and the audit trail records who '
        "downloaded it."
    )
    try:
        with db.read_session(engine) as session:
            read.privacy.require_person_data(session, viewer, choice.programme_id)
    except DomainError as error:
        st.error(plain_text(error.reason))
    else:
        token = st.session_state.get(signin_page.TOKEN_KEY)
        left, right = st.columns(2)
        for column, file_format, label in (
            (left, "json", "Download as JSON"),
            (right, "csv", "Download as CSV (for a spreadsheet)"),
        ):
            # A callable: the file is made (and audited) only when the button is clicked.
            column.download_button(
                label,
                data=subject_access_download(engine, token, sid, file_format),
                file_name=subject_access.subject_access_filename(sid, today, file_format),
                mime=subject_access.MEDIA_TYPES[file_format],
                icon=":material/download:",
                key=f"dp_export_{file_format}_{sid}",
            )

with erasure_tab:
    st.markdown(ERASURE_TEXT)
    if read.privacy.is_erased_name(name):
        st.info("This stakeholder has already been erased.")
        st.stop()
    confirm_key = f"dp_erase_confirm_{sid}"
    with st.form(f"dp_erase_{sid}"):
        typed = st.text_input(
            f"Type the stakeholder's name to confirm: {plain_text(name)}",
            key=confirm_key,
            help="Exactly as it is shown, so the wrong person is not erased by a slip.",
        )
        if st.form_submit_button("Erase this stakeholder", icon=":material/delete_forever:"):
            if typed.strip() != name:
                st.error("Not erased. The name you typed does not match the stakeholder's name.")
            else:
                try:
                    erasure = privacy.erase(engine, viewer=viewer, stakeholder_id=sid)
                except DomainError as error:
                    st.error(f"Not erased. {plain_text(error.reason)}")
                else:
                    st.session_state.pop(confirm_key, None)
                    st.session_state[LAST_ERASURE] = privacy.erasure_summary(erasure)
                    manage.flash(plain_text(erasure.describe()))
                    st.rerun()
