"""The subject access file (tracker/io/subject_access.py): JSON as the export holds it, CSV by the
one CSV writer, so a stakeholder's name or notes that begin like a formula cannot run in a
spreadsheet. (What the export holds, and that the file is audited: tests/test_privacy.py.)"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tracker.io import subject_access


def _export(name: str, notes: str) -> dict[str, Any]:
    return {
        "export": {
            "kind": "subject access request",
            "generated_on": "2026-06-15",
            "stakeholder_id": 7,
        },
        "stakeholder": {"id": 7, "name": name, "notes": notes, "stance": -2, "influence": 4},
        "engagements": [{"summary": "+1 from the ward", "follow_up_done": True}],
    }


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_a_name_or_note_beginning_with_a_formula_is_neutralised_in_the_csv() -> None:
    export = _export('=HYPERLINK("http://x","Eve")', "=1+1 said on the phone")
    rows = _rows(subject_access.export_csv(export))
    assert rows[0] == ["section", "item", "field", "value"]
    values = {(row[0], row[2]): row[3] for row in rows[1:]}
    assert values["stakeholder", "name"] == '\'=HYPERLINK("http://x","Eve")'
    assert values["stakeholder", "notes"] == "'=1+1 said on the phone"
    assert values["engagements", "summary"] == "'+1 from the ward"
    # Numbers stay numbers; true reads yes, as in every CSV the tracker writes.
    assert values["stakeholder", "stance"] == "-2"
    assert values["stakeholder", "influence"] == "4"
    assert values["engagements", "follow_up_done"] == "yes"


def test_the_json_keeps_the_values_as_they_are_and_names_the_file() -> None:
    export = _export("=Eve", "=1+1")
    assert json.loads(subject_access.export_json(export)) == export
    assert subject_access.export_filename(export, "csv") == (
        "subject-access-stakeholder-7-2026-06-15.csv"
    )
    assert subject_access.MEDIA_TYPES == {"json": "application/json", "csv": "text/csv"}
