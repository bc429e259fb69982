"""The audit trail as a file: the events an administrator filtered (tracker.read.admin), as a
CSV a spreadsheet opens, written by the one CSV writer (tracker.io.tables)."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.io import tables
from tracker.read.admin import AuditEntry

AUDIT_CSV_HEADERS = ("When (UTC)", "Person", "Action", "Record type", "Record id", "Changes")


def audit_csv(events: Sequence[AuditEntry]) -> bytes:
    """The events as a CSV file for a spreadsheet, written by the one CSV writer
    (tracker.io.tables: UTF-8 with a byte-order mark, no cell able to run as a formula)."""
    return tables.csv_bytes(
        AUDIT_CSV_HEADERS,
        (
            (
                f"{event.at:%Y-%m-%d %H:%M:%S}",
                event.actor,
                event.action,
                event.record_type,
                event.record_id,
                event.changes,
            )
            for event in events
        ),
    )
