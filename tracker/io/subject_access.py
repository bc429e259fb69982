"""The subject access file (RELIABILITY.md #11, #21): everything held about one stakeholder
(`tracker.read.privacy.subject_access_export`) as JSON or CSV, recorded in the audit trail
(`tracker.privacy.record_subject_access`) before it is handed over. The CSV is written by the
one CSV/XLSX writer (`tracker.io.tables`), so no cell can run as a formula.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy.engine import Engine

from tracker import db
from tracker.access import Viewer
from tracker.errors import DomainError
from tracker.io import tables
from tracker.privacy import ExportFormat, record_subject_access
from tracker.read.privacy import subject_access_export


def export_json(export: Mapping[str, Any]) -> bytes:
    """A subject access export as UTF-8 JSON, for download."""
    return json.dumps(export, indent=2, ensure_ascii=False).encode("utf-8")


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs.extend(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return pairs
    if isinstance(value, list):
        if all(not isinstance(item, (dict, list)) for item in value):
            return [(prefix, "; ".join(str(item) for item in value))]
        pairs = []
        for number, item in enumerate(value, start=1):
            pairs.extend(_flatten(f"{prefix}[{number}]", item))
        return pairs
    return [(prefix, "" if value is None else value)]


def export_csv(export: Mapping[str, Any]) -> bytes:
    """A subject access export as CSV (section, item, field, value: one line per value), written
    by the one CSV writer (`tracker.io.tables`): UTF-8 with a byte-order mark so spreadsheet
    programs read accents correctly, yes/no for true/false, and no cell can run as a formula."""
    lines: list[tuple[tables.Cell, ...]] = []
    for section, content in export.items():
        items = content if isinstance(content, list) else [content]
        for number, item in enumerate(items, start=1):
            label = str(number) if isinstance(content, list) else ""
            lines.extend((section, label, name, value) for name, value in _flatten("", item))
    return tables.csv_bytes(("section", "item", "field", "value"), lines)


def subject_access_filename(stakeholder_id: int, day: dt.date, suffix: str = "json") -> str:
    """e.g. subject-access-stakeholder-12-2026-06-15.json"""
    return f"subject-access-stakeholder-{stakeholder_id}-{day.isoformat()}.{suffix}"


def export_filename(export: Mapping[str, Any], suffix: str = "json") -> str:
    """e.g. subject-access-stakeholder-12-2026-06-15.json"""
    about = export["export"]
    day = dt.date.fromisoformat(about["generated_on"])
    return subject_access_filename(int(about["stakeholder_id"]), day, suffix)


# The media type each format is handed out with.
MEDIA_TYPES: Mapping[str, str] = MappingProxyType(
    {"json": "application/json", "csv": tables.CSV_MEDIA_TYPE}
)


@dataclass(frozen=True)
class SubjectAccessFile:
    """A subject access export, ready to hand over: its bytes, file name and media type."""

    data: bytes
    file_name: str
    mime: str
    audit_event_id: int


def subject_access_file(
    engine: Engine, *, viewer: Viewer, stakeholder_id: int, file_format: ExportFormat
) -> SubjectAccessFile:
    """The subject access export as a JSON or CSV file, recorded in the audit trail (by the
    viewer, `record_subject_access`) before it is handed over: the export is read first (no
    write lock held meanwhile), then the event is written; if that fails, no file is made."""
    if file_format not in MEDIA_TYPES:
        raise DomainError("file_format", "must be json or csv")
    with db.read_session(engine) as session:
        export = subject_access_export(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id
        )
    with db.write_session(engine, actor=viewer.email) as session:
        event_id = record_subject_access(
            session=session, viewer=viewer, stakeholder_id=stakeholder_id, file_format=file_format
        )
    data = export_csv(export) if file_format == "csv" else export_json(export)
    return SubjectAccessFile(
        data=data,
        file_name=export_filename(export, file_format),
        mime=MEDIA_TYPES[file_format],
        audit_event_id=event_id,
    )
