"""Manage · Export: a programme's records as CSV (one file per record type) or one XLSX workbook,
and the programme exchange file that a partner organisation can import whole."""

import io
import zipfile
from collections.abc import Callable

import streamlit as st

from pages import _common as common
from pages import _manage as manage
from tracker import db, permissions
from tracker.errors import DomainError
from tracker.io import exchange, exports, tables
from tracker.safe_text import plain_text

viewer = manage.require_manager()
st.title("Export")
st.caption(
    "Take a programme's records out as spreadsheets, or as an exchange file that another "
    "organisation's Change Tracker can import whole."
)
choice = manage.choose_programme(viewer)
today = common.today().isoformat()

scope = st.radio(
    "Programmes",
    ["this", "all"],
    format_func={
        "this": f"Only {choice.title}",
        "all": "Every programme I manage",
    }.__getitem__,
    horizontal=True,
    key="export_scope",
)
personal = st.checkbox(
    "Include people's data (stakeholders, their notes, assessments, engagements, influence)",
    value=False,
    key="export_personal",
    help="Stakeholder data is personal data: export it only when you need it, keep the file "
    "secure, and delete it when you are done.",
)
if personal:
    st.warning(
        "The file will hold personal data about named people. Store it only where your "
        "organisation's data protection policy allows.",
        icon=":material/shield_person:",
    )
programme_ids = [choice.programme_id] if scope == "this" else None
stem = choice.code if scope == "this" else "programmes"


def _csv_zip() -> bytes:
    with db.read_session(common.get_engine()) as session:
        files = exports.export_csv_files(
            session=session, viewer=viewer, programme_ids=programme_ids, personal_data=personal
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx() -> bytes:
    with db.read_session(common.get_engine()) as session:
        return exports.export_xlsx(
            session=session, viewer=viewer, programme_ids=programme_ids, personal_data=personal
        )


def _exchange() -> bytes:
    with db.read_session(common.get_engine()) as session:
        permissions.require_programme(
            session, viewer, permissions.Action.programme_edit, choice.programme_id
        )
        document = exchange.export_programme(
            session=session, viewer=viewer, programme_id=choice.programme_id
        )
    return exchange.to_json(document).encode("utf-8")


# Each download: its button's icon and widget key, by the file's media type.
BUTTONS = {
    tables.XLSX_MEDIA_TYPE: (":material/table_view:", "export_xlsx"),
    "application/zip": (":material/folder_zip:", "export_csv"),
    exchange.MEDIA_TYPE: (":material/swap_horiz:", "export_exchange"),
}


def download(label: str, build: Callable[[], bytes], file_name: str, mime: str) -> None:
    """A button that builds the file when pressed and downloads it."""
    icon, key = BUTTONS[mime]
    st.download_button(label, data=build, file_name=file_name, mime=mime, icon=icon, key=key)


st.header("Spreadsheets")
st.markdown(
    "One sheet (or CSV file) per kind of record. Cells that a spreadsheet would run as a "
    "formula are written as text, so opening the file is safe."
)
try:
    with st.container(horizontal=True):
        download("Download XLSX workbook", _xlsx, f"{stem}-{today}.xlsx", tables.XLSX_MEDIA_TYPE)
        download("Download CSV files (ZIP)", _csv_zip, f"{stem}-csv-{today}.zip", "application/zip")
    names = ", ".join(
        record.title.lower() for record in exports.RECORD_TYPES if personal or not record.personal
    )
    st.caption(f"Record types included: {names}.")

    st.header("Programme exchange file")
    st.markdown(
        f"The whole of **{choice.title}** in one file: its stages, milestones, people, "
        "barriers, metrics and narratives. A partner imports it on their Import page to "
        "recreate the programme exactly. The format is described in `docs/exchange-format.md` "
        f"(version {exchange.VERSION}). It always includes people's data."
    )
    download(
        "Download exchange file (JSON)",
        _exchange,
        f"{choice.code}-exchange-{today}.json",
        exchange.MEDIA_TYPE,
    )
except DomainError as error:
    st.error(plain_text(error.reason))
