"""CSV and XLSX exports on the demo portfolio: a file (or sheet) per record type with a row per
record, formula-like text neutralised, personal data only for managers, and `tracker export`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tests.factories import SYSTEM
from tracker import db
from tracker.access import Viewer, load_viewer
from tracker.cli import main
from tracker.errors import PermissionDeniedError
from tracker.io import exports, tables
from tracker.models import (
    Assessment,
    Barrier,
    Engagement,
    ExitCriterion,
    InfluenceLink,
    Metric,
    MetricReading,
    Milestone,
    MilestoneCreate,
    Narrative,
    NarrativeCreate,
    Programme,
    StageRecord,
    Stakeholder,
)
from tracker.models.people import StakeholderCreate
from tracker.services import milestones, narratives, records, stakeholders

ADMIN = "ada.admin@demo.example"
MANAGER = "maya.manager@demo.example"  # Northmoor County Council only
LEADER = "lena.leader@demo.example"
STAFF = "sam.staff@demo.example"
FORMULA = '=HYPERLINK("http://x","y")'


def _viewer(session: Session, email: str) -> Viewer:
    viewer = load_viewer(session, email=email)
    assert viewer is not None
    return viewer


def _programme_id(session: Session, code: str) -> int:
    return int(session.exec(select(Programme.id).where(Programme.code == code)).one() or 0)


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(tables.CSV_ENCODING))))


def _counts(session: Session, programme_ids: list[int]) -> dict[str, int]:
    """How many records of each type the programmes have, counted straight from the tables."""

    def count(table: Any, *joins: Any, programme_column: Any) -> int:
        statement = sa.select(sa.func.count()).select_from(table)
        for join in joins:
            statement = statement.join(*join)
        statement = statement.where(programme_column.in_(programme_ids))
        return int(session.connection().execute(statement).scalar_one())

    return {
        "programmes": count(Programme, programme_column=col(Programme.id)),
        "stages": count(StageRecord, programme_column=col(StageRecord.programme_id)),
        "exit-criteria": count(
            ExitCriterion,
            (StageRecord, col(StageRecord.id) == col(ExitCriterion.stage_record_id)),
            programme_column=col(StageRecord.programme_id),
        ),
        "milestones": count(Milestone, programme_column=col(Milestone.programme_id)),
        "stakeholders": count(Stakeholder, programme_column=col(Stakeholder.programme_id)),
        "assessments": count(
            Assessment,
            (Stakeholder, col(Stakeholder.id) == col(Assessment.stakeholder_id)),
            programme_column=col(Stakeholder.programme_id),
        ),
        "engagements": count(Engagement, programme_column=col(Engagement.programme_id)),
        "barriers": count(Barrier, programme_column=col(Barrier.programme_id)),
        "metrics": count(Metric, programme_column=col(Metric.programme_id)),
        "metric-readings": count(
            MetricReading,
            (Metric, col(Metric.id) == col(MetricReading.metric_id)),
            programme_column=col(Metric.programme_id),
        ),
        "narratives": count(Narrative, programme_column=col(Narrative.programme_id)),
        "influence-links": count(
            InfluenceLink,
            (Stakeholder, col(Stakeholder.id) == col(InfluenceLink.from_stakeholder_id)),
            programme_column=col(Stakeholder.programme_id),
        ),
    }


def test_csv_has_a_file_per_record_type_with_a_row_per_record(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, ADMIN)
        files = exports.export_csv_files(session=session, viewer=viewer, personal_data=True)
        expected = _counts(session, list(session.exec(select(Programme.id)).all()))

    assert list(files) == [record.file_name for record in exports.RECORD_TYPES]
    for record in exports.RECORD_TYPES:
        rows = _csv_rows(files[record.file_name])
        assert tuple(rows[0]) == record.headers
        assert len(rows) - 1 == expected[record.key], record.key
        assert expected[record.key] > 0, f"the demo has no {record.key}: the test proves little"
    assert files["programmes.csv"].startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8


def test_xlsx_has_a_sheet_per_record_type_with_the_same_rows(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, ADMIN)
        data = exports.export_xlsx(session=session, viewer=viewer, personal_data=True)
        expected = _counts(session, list(session.exec(select(Programme.id)).all()))
        first_due = session.exec(select(Milestone.due_date).order_by(col(Milestone.id))).first()

    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == [record.title for record in exports.RECORD_TYPES]
    for record in exports.RECORD_TYPES:
        sheet = workbook[record.title]
        assert tuple(cell.value for cell in sheet[1]) == record.headers
        assert sheet.max_row - 1 == expected[record.key], record.key
    milestones_sheet = workbook["Milestones"]
    headers = [cell.value for cell in milestones_sheet[1]]
    due = [row[headers.index("Due date")] for row in milestones_sheet.iter_rows(min_row=2)]
    assert all(isinstance(cell.value, dt.datetime) for cell in due)  # real dates, not text
    assert all(cell.number_format == "yyyy-mm-dd" for cell in due)
    assert first_due in {cell.value.date() for cell in due}
    weights = [row[headers.index("Weight")].value for row in milestones_sheet.iter_rows(min_row=2)]
    assert all(isinstance(weight, int) for weight in weights)


def test_one_programme_exports_only_its_own_records(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, MANAGER)
        programme_id = _programme_id(session, "NCC-CARE-RECORD")
        files = exports.export_csv_files(
            session=session, viewer=viewer, programme_ids=[programme_id], personal_data=True
        )
        expected = _counts(session, [programme_id])

    for record in exports.RECORD_TYPES:
        rows = _csv_rows(files[record.file_name])[1:]
        assert len(rows) == expected[record.key], record.key
        assert {row[0] for row in rows} <= {"NCC-CARE-RECORD"}


def test_without_a_programme_list_every_programme_the_viewer_may_see_is_exported(
    demo_engine: Engine,
) -> None:
    with db.read_session(demo_engine) as session:
        files = exports.export_csv_files(
            session=session, viewer=_viewer(session, MANAGER), personal_data=True
        )
    codes = [row[0] for row in _csv_rows(files["programmes.csv"])[1:]]
    # The county's three, and the district's shared platform that the county is a partner of.
    assert codes == ["EDC-SHARED-PLAT", "NCC-ASC-ONLINE", "NCC-CARE-RECORD", "NCC-REPORT-IT"]


def test_formula_like_text_is_neutralised_and_numbers_stay_numbers(demo_engine: Engine) -> None:
    with db.write_session(demo_engine, actor=MANAGER) as session:
        programme_id = _programme_id(session, "NCC-CARE-RECORD")
        milestones.create_milestone(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MilestoneCreate,
                {
                    "programme_id": programme_id,
                    "stage": "test",
                    "title": FORMULA,
                    "owner": "@owner",
                    "due_date": dt.date(2026, 9, 30),
                },
            ),
        )
        narratives.write_narrative(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                NarrativeCreate,
                {
                    "programme_id": programme_id,
                    "title": "+1 for the new portal",
                    "body": "-2 days to go\n\nand counting",
                },
            ),
        )
        stakeholders.create_stakeholder(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                StakeholderCreate,
                {
                    "programme_id": programme_id,
                    "name": "Rhys Resistor",
                    "role": "\tTabbed role",
                    "stance": -2,
                    "notes": "\rstarts with a carriage return",
                },
            ),
        )
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, MANAGER)
        files = exports.export_csv_files(
            session=session, viewer=viewer, programme_ids=[programme_id], personal_data=True
        )
        workbook = openpyxl.load_workbook(
            io.BytesIO(
                exports.export_xlsx(
                    session=session, viewer=viewer, programme_ids=[programme_id], personal_data=True
                )
            )
        )

    def csv_row(file_name: str, value: str) -> dict[str, str]:
        rows = _csv_rows(files[file_name])
        found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if value in row]
        assert len(found) == 1, (file_name, value)
        return found[0]

    def xlsx_row(title: str, value: str) -> dict[str, Any]:
        sheet = workbook[title]
        headers = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            cells = dict(zip(headers, row, strict=True))
            if any(cell.value == value for cell in row):
                return cells
        raise AssertionError(f"{value!r} not in {title}")

    milestone = csv_row("milestones.csv", "'" + FORMULA)
    assert milestone["Milestone title"] == "'" + FORMULA
    assert milestone["Owner"] == "'@owner"
    narrative = csv_row("narratives.csv", "'+1 for the new portal")
    assert narrative["Body"] == "'-2 days to go\n\nand counting"
    person = csv_row("stakeholders.csv", "Rhys Resistor")
    assert person["Role"] == "'\tTabbed role"
    assert person["Notes"] == "'\rstarts with a carriage return"
    assert person["Stance"] == "-2"  # a number: not quoted

    cells = xlsx_row("Milestones", "'" + FORMULA)
    assert cells["Milestone title"].data_type == "s"  # text, never a formula
    assert cells["Owner"].value == "'@owner"
    assert xlsx_row("Narratives", "'+1 for the new portal")["Body"].value.startswith("'-2 days")
    person_cells = xlsx_row("Stakeholders", "Rhys Resistor")
    assert person_cells["Role"].value == "'\tTabbed role"
    assert person_cells["Stance"].value == -2
    assert person_cells["Stance"].data_type == "n"
    reading = workbook["Metric readings"]["D2"]
    assert reading.data_type == "n" and isinstance(reading.value, int | float)


def test_leadership_cannot_export_notes_or_stance_history(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, LEADER)
        programme_id = _programme_id(session, "NCC-CARE-RECORD")
        some_notes = session.exec(
            select(Stakeholder.notes).where(
                Stakeholder.programme_id == programme_id, Stakeholder.notes != ""
            )
        ).first()
        with pytest.raises(PermissionDeniedError, match="personal data"):
            exports.export_csv_files(
                session=session, viewer=viewer, programme_ids=[programme_id], personal_data=True
            )
        with pytest.raises(PermissionDeniedError):
            exports.export_xlsx(session=session, viewer=viewer, personal_data=True)
        files = exports.export_csv_files(
            session=session, viewer=viewer, programme_ids=[programme_id], personal_data=False
        )
        workbook = openpyxl.load_workbook(
            io.BytesIO(exports.export_xlsx(session=session, viewer=viewer, personal_data=False))
        )

    personal = {record.file_name for record in exports.RECORD_TYPES if record.personal}
    assert personal == {
        "stakeholders.csv",
        "assessments.csv",
        "engagements.csv",
        "influence-links.csv",
    }
    assert set(files) == {record.file_name for record in exports.RECORD_TYPES} - personal
    assert "Depends on stakeholders" not in _csv_rows(files["milestones.csv"])[0]
    assert some_notes
    assert all(some_notes.encode() not in data for data in files.values())
    assert "Stakeholders" not in workbook.sheetnames
    assert "Assessments" not in workbook.sheetnames


def test_staff_cannot_export(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, STAFF)
        with pytest.raises(PermissionDeniedError, match="not staff"):
            exports.export_csv_files(session=session, viewer=viewer, personal_data=False)


def test_a_programme_the_viewer_cannot_see_is_refused(demo_engine: Engine) -> None:
    with db.read_session(demo_engine) as session:
        viewer = _viewer(session, MANAGER)
        district_only = _programme_id(session, "EDC-DIGITAL-PLAN")
        with pytest.raises(PermissionDeniedError, match="not yours to see"):
            exports.export_xlsx(
                session=session, viewer=viewer, programme_ids=[district_only], personal_data=False
            )


def test_each_table_is_read_once_whatever_the_number_of_programmes(demo_engine: Engine) -> None:
    def statements(programme_ids: list[int]) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        with db.read_session(demo_engine) as session:
            viewer = _viewer(session, ADMIN)
            sa.event.listen(demo_engine, "before_cursor_execute", count)
            try:
                exports.export_csv_files(
                    session=session, viewer=viewer, programme_ids=programme_ids, personal_data=True
                )
            finally:
                sa.event.remove(demo_engine, "before_cursor_execute", count)
        return len(seen)

    with db.read_session(demo_engine) as session:
        every = list(session.exec(select(Programme.id)).all())
    one, five = statements(every[:1]), statements(every)
    # Only the access check runs once per programme; the tables are read once each.
    assert five - one == len(every) - 1
    assert one < 25


# --- tracker export ----------------------------------------------------------------------------


def test_cli_exports_csv_files_into_a_folder(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "csv"
    code = main(
        ["export", "ncc-care-record", "--format", "csv", "--out", str(out), "--as", MANAGER]
    )

    assert code == 0
    assert sorted(path.name for path in out.iterdir()) == sorted(
        record.file_name for record in exports.RECORD_TYPES
    )
    rows = _csv_rows((out / "milestones.csv").read_bytes())
    assert rows[0][0] == "Programme code" and rows[1][0] == "NCC-CARE-RECORD"
    assert f"Wrote 12 CSV files to {out}" in capsys.readouterr().out


def test_cli_exports_an_xlsx_workbook_and_an_exchange_file(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export", "NCC-CARE-RECORD", "--format", "xlsx", "--as", MANAGER]) == 0
    assert main(["export", "NCC-CARE-RECORD", "--format", "exchange", "--as", MANAGER]) == 0

    (workbook_path,) = tmp_path.glob("NCC-CARE-RECORD-*.xlsx")
    assert openpyxl.load_workbook(workbook_path).sheetnames[0] == "Programmes"
    (exchange_path,) = tmp_path.glob("NCC-CARE-RECORD-*-exchange.json")
    document = json.loads(exchange_path.read_text(encoding="utf-8"))
    assert (document["format"], document["version"]) == ("change-tracker-programme", 2)
    assert document["programme"]["code"] == "NCC-CARE-RECORD"


def test_cli_export_as_leadership_leaves_out_personal_data_and_refuses_the_exchange_file(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "board"
    assert (
        main(["export", "NCC-CARE-RECORD", "--format", "csv", "--out", str(out), "--as", LEADER])
        == 0
    )
    assert not (out / "stakeholders.csv").exists()
    assert "Left out the stakeholders" in capsys.readouterr().out

    target = tmp_path / "x.json"
    code = main(
        ["export", "NCC-CARE-RECORD", "--format", "exchange", "--out", str(target), "--as", LEADER]
    )
    assert code == 1
    assert "Only managers and administrators" in capsys.readouterr().err
    assert not target.exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["export", "NCC-CARE-RECORD", "--format", "csv"], 2),  # no --as
        (["export", "NCC-CARE-RECORD", "--format", "pdf", "--as", MANAGER], 2),
        (
            [
                "export",
                "NCC-CARE-RECORD",
                "--format",
                "exchange",
                "--no-personal-data",
                "--as",
                MANAGER,
            ],
            2,
        ),
        (["export", "NO-SUCH-CODE", "--format", "csv", "--as", MANAGER], 1),
        (["export", "NCC-CARE-RECORD", "--format", "csv", "--as", "nobody@example.org"], 1),
        (["export", "EDC-DIGITAL-PLAN", "--format", "csv", "--as", MANAGER], 1),  # not theirs
    ],
)
def test_cli_export_refusals_and_usage_errors(
    argv: list[str], expected: int, demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == expected
    written = [path.name for path in tmp_path.iterdir() if not path.name.startswith("tracker.db")]
    assert written == []
