"""Manage · Import: bring in the spreadsheets teams already keep. Upload, check which column
feeds which field, see every problem by row and column, then import all of it or none. Also
receives a whole programme from a partner as an exchange file."""

import hashlib

import pandas as pd
import streamlit as st

from pages import _common as common
from pages import _manage as manage
from tracker import db, read
from tracker.errors import DomainError
from tracker.io import exchange, imports, reading
from tracker.models import ImportKind
from tracker.safe_text import plain_text

KINDS = {
    ImportKind.milestones: "Milestones",
    ImportKind.stakeholders: "Stakeholders",
    ImportKind.assessments: "Stance assessments",
    ImportKind.readings: "Metric readings",
    ImportKind.programmes: "Programmes (a whole portfolio)",
}
NOT_IMPORTED = "(not imported)"

viewer = manage.require_manager()
st.title("Import")
manage.show_flash()
st.caption(
    "CSV (comma, semicolon or tab) or Excel XLSX, up to 10 MB. Dates may be 31/03/2026, "
    "31.03.2026, 2026-03-31 or Excel dates. Importing the same file again updates what it "
    "imported before instead of adding it twice."
)
kind = ImportKind(
    st.radio(
        "What the file holds",
        list(KINDS),
        format_func=KINDS.__getitem__,
        horizontal=True,
        key="import_kind",
    )
)
choice = None if kind is ImportKind.programmes else manage.choose_programme(viewer)
programme_id = choice.programme_id if choice else None
with db.read_session(common.get_engine()) as session:
    names = read.manage.organisation_choices(session=session)
    organisation_id = read.imports.mapping_organisation(
        session=session, viewer=viewer, programme_id=programme_id
    )
assert organisation_id is not None  # require_manager: a manager acts for an organisation

upload = st.file_uploader(
    "Spreadsheet", type=["csv", "tsv", "txt", "xlsx"], key=f"import_file_{kind.value}"
)
if upload is None:
    st.info("Choose a file to see how it will be read. Nothing is imported until you confirm.")
else:
    data = upload.getvalue()
    try:
        reading.check_size(len(data), upload.name)
        table = reading.read_table(data, upload.name, header_hints=reading.header_hints(kind))
    except DomainError as error:
        st.error(f"This file cannot be imported: {plain_text(error.reason)}")
        st.stop()
    st.caption(plain_text(table.describe()))
    digest = hashlib.sha256(data).hexdigest()[:12]
    with db.read_session(common.get_engine()) as session:
        saved = imports.saved_mapping(session=session, organisation_id=organisation_id, kind=kind)
    guessed = reading.guess_mapping(kind, table.headers, preferred=saved)

    st.header("Columns")
    st.markdown(
        "Which column of the file feeds each field. The guesses come from the column names"
        + (f" and {plain_text(names[organisation_id])}'s saved choices." if saved else ".")
    )
    options = [NOT_IMPORTED, *table.headers]
    mapping: dict[str, str | None] = {}
    columns = st.columns(3)
    for index, spec in enumerate(reading.fields_for(kind)):
        key = f"import_map_{kind.value}_{digest}_{spec.key}"
        manage.seed(key, guessed.get(spec.key) or NOT_IMPORTED)
        picked = columns[index % 3].selectbox(
            spec.label + (" (required)" if spec.required else ""),
            options,
            key=key,
            help=spec.accepts,
        )
        mapping[spec.key] = None if picked == NOT_IMPORTED else picked
    if st.button(
        f"Remember these columns for {names[organisation_id]}'s next {KINDS[kind].lower()} file",
        key="import_save_mapping",
        icon=":material/bookmark:",
    ) and manage.save(
        viewer,
        lambda session: imports.save_mapping(
            session=session,
            viewer=viewer,
            organisation_id=organisation_id,
            kind=kind,
            mapping=mapping,
        ),
    ):
        st.success("Saved. Files with these column names will be read the same way.")

    st.header("Check")
    # What the check reads is exactly what the import writes.
    request = {"kind": kind, "table": table, "mapping": mapping, "programme_id": programme_id}
    with db.read_session(common.get_engine()) as session:
        checked = imports.preview(session=session, viewer=viewer, **request)
    st.markdown(f"**{plain_text(checked.describe())}**")
    if checked.problems:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Row": problem.row,
                        "Column": problem.column or "",
                        "Problem": problem.reason,
                        "Blocks the import": "Yes"
                        if problem.severity is reading.Severity.error
                        else "No",
                    }
                    for problem in checked.problems
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    with st.expander("What will happen to each row"):
        st.dataframe(
            pd.DataFrame(
                [{"Row": p.row, "Action": p.action.value, "Record": p.key} for p in checked.rows]
            ),
            hide_index=True,
            width="stretch",
        )
    if not checked.can_commit:
        st.error(
            "Nothing can be imported until every problem that blocks the import is corrected "
            "in the file (or the columns above). Then upload it again."
        )
    elif st.button("Import all rows", type="primary", key="import_commit"):
        bar = st.progress(0.0, text="Importing...")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Importing: {done} of {total}")

        result = manage.save(
            viewer,
            lambda session: imports.commit_import(
                session=session, viewer=viewer, progress=progress, **request
            ),
        )
        if result is not None:
            manage.flash(result.describe())
            st.session_state.pop(f"import_file_{kind.value}", None)
            st.rerun()

st.divider()
st.header("Receive a programme from a partner")
st.markdown(
    "An exchange file (JSON) exported from another Change Tracker holds one whole programme. "
    "Importing it creates the programme here, exactly as the partner has it."
)
document = st.file_uploader("Exchange file", type=["json"], key="import_exchange_file")
if document is not None and st.button("Create the programme", key="import_exchange_commit"):
    try:
        reading.check_size(document.size, document.name)
        text = document.getvalue().decode("utf-8")
    except (DomainError, UnicodeDecodeError):
        st.error("This is not an exchange file: it must be JSON text of at most 10 MB.")
    else:
        created = manage.save(
            viewer,
            lambda session: (
                exchange.import_programme(session=session, viewer=viewer, document=text).code
            ),
        )
        if created is not None:
            manage.flash(
                f"Created programme {plain_text(created)} from {plain_text(document.name)}."
            )
            manage.open_programme(created)
            st.rerun()
