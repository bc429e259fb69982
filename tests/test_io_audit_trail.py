"""The audit trail as a CSV file (tracker/io/audit_trail.py): the header row, times in UTC to the
second, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

from tracker.io import audit_trail
from tracker.read.admin import AuditEntry


def test_the_audit_csv_neutralises_cells_a_spreadsheet_would_run() -> None:
    at = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)
    events = [
        AuditEntry(
            id=1,
            at=at,
            when="15 Jun 2026 10:00:00",
            actor="=cmd|'/c calc'!A1",
            action="Changed",
            record_type="milestone",
            record_id="-1",
            changes="@SUM(1)",
            redacted=False,
        )
    ]
    rows = list(csv.reader(io.StringIO(audit_trail.audit_csv(events).decode("utf-8-sig"))))
    assert rows[1] == [
        "2026-06-15 10:00:00",
        "'=cmd|'/c calc'!A1",
        "Changed",
        "milestone",
        "'-1",
        "'@SUM(1)",
    ]
    assert rows[0] == list(audit_trail.AUDIT_CSV_HEADERS)
