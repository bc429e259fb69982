"""The programme exchange file: every demo programme survives export, import into a fresh
database and export again unchanged (on SQLite and PostgreSQL); bad files are refused naming the
place in the file, with nothing written; `tracker exchange-import`."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, col, select

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.access import Viewer, load_viewer
from tracker.cli import main
from tracker.errors import DomainError, PermissionDeniedError
from tracker.io import exchange
from tracker.models import AuditEvent, Organisation, Programme, Role
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate
from tracker.seed.demo import read_portfolio
from tracker.services import organisations, records

ADMIN = "ada.admin@demo.example"
LEADER = "lena.leader@demo.example"
IMPORTER = "importer@example.org"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "exchange-format.md"
ORGANISATIONS = read_portfolio().organisations


@pytest.fixture
def demo_documents(shared_demo_engine: Engine) -> list[dict[str, Any]]:
    """Every demo programme as an exchange document, exported by the administrator."""
    with db.read_session(shared_demo_engine) as session:
        viewer = load_viewer(session, email=ADMIN)
        assert viewer is not None
        ids = session.exec(select(Programme.id).order_by(col(Programme.code))).all()
        return [
            exchange.export_programme(session=session, viewer=viewer, programme_id=int(pid or 0))
            for pid in ids
        ]


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }


def _user(engine: Engine, role: Role, organisation_ids: list[int]) -> Viewer:
    factories.user(engine, organisation_ids, role=role, email=IMPORTER, name="Ivo Importer")
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=IMPORTER)
    assert viewer is not None
    return viewer


def _admin_elsewhere(engine: Engine) -> Viewer:
    """An administrator in a database that has none of the file's organisations."""
    return _user(engine, Role.admin, [factories.organisation(engine, name="Elsewhere Council")])


def _demo_organisations(engine: Engine) -> list[int]:
    """The demo's organisations and staff groups, made by hand in another database."""
    ids = []
    with db.write_session(engine, actor=IMPORTER) as session:
        for org in ORGANISATIONS:
            created = organisations.create_organisation(
                session=session,
                viewer=SYSTEM,
                data=records.validated(
                    OrganisationCreate, {"name": org["name"], "short_name": org["short_name"]}
                ),
            )
            assert created.id is not None
            ids.append(created.id)
            for name in reversed(org["staff_groups"]):  # another order: other ids
                organisations.create_staff_group(
                    session=session,
                    viewer=SYSTEM,
                    data=records.validated(
                        StaffGroupCreate, {"organisation_id": created.id, "name": name}
                    ),
                )
    return ids


def _as_file(document: dict[str, Any]) -> str:
    """The document as JSON without who wrote its narratives and who set its overrides: an
    import records those as the importing user (the file's words kept as provenance, see
    test_an_import_records_the_importer_as_author_and_setter), so they are all that differs
    after a round trip through another person's import."""
    plain = {
        **document,
        "narratives": [{**n, "author": None} for n in document["narratives"]],
        "confidence_overrides": [
            {**o, "set_by": None, "reason": None} for o in document["confidence_overrides"]
        ],
    }
    return exchange.to_json(plain)


def _import(engine: Engine, viewer: Viewer, document: dict[str, Any] | str) -> None:
    """Import as the viewer, read afresh as every page run does: an administrator's earlier
    import may have made them an administrator of the organisations it created."""
    with db.write_session(engine, actor=viewer.email) as session:
        fresh = load_viewer(session, email=viewer.email) or viewer
        exchange.import_programme(session=session, viewer=fresh, document=document)


def _export_all(engine: Engine, codes: list[str]) -> list[dict[str, Any]]:
    with db.read_session(engine) as session:
        everywhere = frozenset(
            int(org_id or 0) for org_id in session.exec(select(Organisation.id)).all()
        )
        viewer = Viewer(0, "reader@example.org", "Reader", Role.admin, everywhere)
        return [
            exchange.export_programme(
                session=session,
                viewer=viewer,
                programme_id=int(
                    session.exec(select(Programme.id).where(Programme.code == code)).one() or 0
                ),
            )
            for code in codes
        ]


def _codes(documents: list[dict[str, Any]]) -> list[str]:
    return [document["programme"]["code"] for document in documents]


# --- Round trips -------------------------------------------------------------------------------


def test_every_demo_programme_survives_a_round_trip_unchanged(
    engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    admin = _admin_elsewhere(engine)
    for document in demo_documents:
        _import(engine, admin, exchange.to_json(document))

    again = _export_all(engine, _codes(demo_documents))

    assert len(demo_documents) == 5
    for before, after in zip(demo_documents, again, strict=True):
        assert _as_file(after) == _as_file(before), before["programme"]["code"]
    with db.read_session(engine) as session:
        short_names = set(session.exec(select(Organisation.short_name)).all())
    assert {org["short_name"] for org in ORGANISATIONS} <= short_names  # made by the import


def test_a_manager_imports_when_the_organisations_and_staff_groups_exist(
    engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    manager = _user(engine, Role.manager, _demo_organisations(engine))
    for document in demo_documents:
        _import(engine, manager, document)

    again = _export_all(engine, _codes(demo_documents))

    assert [_as_file(d) for d in again] == [_as_file(d) for d in demo_documents]


def test_the_documented_example_imports_and_exports_back_the_same(sqlite_engine: Engine) -> None:
    example = _documented_example()
    _import(sqlite_engine, _admin_elsewhere(sqlite_engine), json.dumps(example))

    (again,) = _export_all(sqlite_engine, [example["programme"]["code"]])

    # Every programme has all six stages: those the example leaves out come back empty.
    assert [stage["stage"] for stage in again["stages"]] == [
        "vision",
        "influencers",
        "test",
        "equip",
        "launch",
        "celebrate",
    ]
    assert again["stages"][0] == example["stages"][0]
    assert all(stage["exit_criteria"] == [] for stage in again["stages"][1:])
    assert _as_file({**again, "stages": []}) == _as_file({**example, "stages": []})


def test_what_the_services_would_add_or_renumber_comes_back_as_in_the_file(
    sqlite_engine: Engine,
) -> None:
    example = _documented_example()
    # No stance history (create_stakeholder records one), an engagement whose stakeholders
    # were deleted (log_engagement needs one), an exit criterion at position 5 (added ones
    # count from 0), and a current stance that is not the latest assessment's.
    example["stakeholders"][1]["assessments"] = []
    example["engagements"][0]["stakeholders"] = []
    example["stages"][0]["exit_criteria"][0]["position"] = 5
    example["stakeholders"][0]["stance"] = 1
    _import(sqlite_engine, _admin_elsewhere(sqlite_engine), example)

    (again,) = _export_all(sqlite_engine, [example["programme"]["code"]])

    assert again["stages"][0] == example["stages"][0]
    assert _as_file({**again, "stages": []}) == _as_file({**example, "stages": []})


def test_the_file_is_deterministic_sorted_json(demo_documents: list[dict[str, Any]]) -> None:
    text = exchange.to_json(demo_documents[0])
    assert text == exchange.to_json(json.loads(text))
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert text.endswith("}\n") and '\n  "format": "change-tracker-programme",\n' in text

    def keys(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, child in value.items():
                yield key
                yield from keys(child)
        elif isinstance(value, list):
            for child in value:
                yield from keys(child)

    nested = [key for key in keys(json.loads(text)["programme"]) if key == "version"]
    ids = [key for key in keys(json.loads(text)) if key == "id" or key.endswith("_id")]
    assert (nested, ids) == ([], [])  # no database ids, no optimistic-lock versions


def test_the_import_is_audited_as_the_person_importing(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    _import(sqlite_engine, _admin_elsewhere(sqlite_engine), demo_documents[0])

    with db.read_session(sqlite_engine) as session:
        audited = set(
            session.exec(select(AuditEvent.record_type).where(AuditEvent.actor == IMPORTER)).all()
        )
    assert {"programme", "stage_record", "milestone", "stakeholder", "assessment"} <= audited
    assert {"organisation", "staff_group", "metric_reading", "narrative"} <= audited


def test_leadership_cannot_export_the_exchange_file(shared_demo_engine: Engine) -> None:
    with db.read_session(shared_demo_engine) as session:
        viewer = load_viewer(session, email=LEADER)
        assert viewer is not None
        programme_id = session.exec(select(Programme.id)).first()
        with pytest.raises(PermissionDeniedError, match="Only managers and administrators"):
            exchange.export_programme(
                session=session, viewer=viewer, programme_id=int(programme_id or 0)
            )


# --- Refusals ----------------------------------------------------------------------------------


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = re.findall(r"\w+", path)
    target: Any = document
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[int(last) if last.isdigit() else last]
    else:
        target[int(last) if last.isdigit() else last] = value


_DELETE = object()
BAD_DOCUMENTS = [
    # (what is wrong, path in the file, new value, the field named, words in the reason)
    ("wrong format", "format", "spreadsheet", "format", "not a Change Tracker programme"),
    (
        "newer version",
        "version",
        exchange.VERSION + 1,
        "version",
        "newer than this Change Tracker reads",
    ),
    ("version as text", "version", "1", "version", "whole number"),
    ("missing key", "milestones.0.due_date", _DELETE, "milestones[0].due_date", "is missing"),
    ("missing programme", "programme", _DELETE, "programme", "is missing"),
    ("bad date", "milestones.2.due_date", "2026-02-30", "milestones[2].due_date", "YYYY-MM-DD"),
    ("date as number", "programme.start_date", 20260101, "programme.start_date", "YYYY-MM-DD"),
    (
        "unknown key",
        "barriers.0.colour",
        "red",
        "barriers[0].colour",
        f"not a key of version {exchange.VERSION}",
    ),
    (
        "sharing with no partner",
        "programme.data_sharing",
        ["EDC"],
        "programme.data_sharing[0]",
        "not among the programme's partners",
    ),
    ("out of range", "milestones.1.weight", 9, "milestones[1].weight", "must be 5 or less"),
    ("unknown stage", "stages.0.stage", "dream", "stages[0].stage", "not one of the six"),
    (
        "unknown name",
        "milestones.0.depends_on",
        ["Nobody"],
        "milestones[0].depends_on[0]",
        "Nobody",
    ),
    ("bad status, late", "narratives.-1.status", "live", "narratives[-1].status", "must be one of"),
    ("bad money", "programme.budget", "lots", "programme.budget", "amount"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [case[1:] for case in BAD_DOCUMENTS],
    ids=[case[0] for case in BAD_DOCUMENTS],
)
def test_a_bad_document_is_refused_naming_the_place_and_nothing_is_written(
    sqlite_engine: Engine,
    demo_documents: list[dict[str, Any]],
    path: str,
    value: Any,
    field: str,
    words: str,
) -> None:
    document = copy.deepcopy(demo_documents[-1])
    if "-1" in field:  # the last item: refused after everything before it was written
        count = len(document["narratives"])
        path, field = path.replace("-1", str(count - 1)), field.replace("-1", str(count - 1))
    _set(document, path, value)
    admin = _admin_elsewhere(sqlite_engine)
    before = _row_counts(sqlite_engine)

    with pytest.raises(DomainError) as refused:
        _import(sqlite_engine, admin, exchange.to_json(document))

    assert refused.value.field == field
    assert words in refused.value.reason
    assert refused.value.reason.startswith(f"{field}: ") or field in ("code",)
    assert _row_counts(sqlite_engine) == before


def test_a_programme_whose_code_exists_is_refused_on_code(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    admin = _admin_elsewhere(sqlite_engine)
    _import(sqlite_engine, admin, demo_documents[0])
    before = _row_counts(sqlite_engine)

    with pytest.raises(DomainError) as refused:
        _import(sqlite_engine, admin, demo_documents[0])

    assert refused.value.field == "code"
    assert f"code {demo_documents[0]['programme']['code']} already exists" in refused.value.reason
    assert _row_counts(sqlite_engine) == before


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"format": NaN}', "\ufeff{}"])
def test_text_that_is_not_an_exchange_document_is_refused(sqlite_engine: Engine, text: str) -> None:
    admin = _admin_elsewhere(sqlite_engine)
    before = _row_counts(sqlite_engine)
    with pytest.raises(DomainError, match="JSON|exchange file"):
        _import(sqlite_engine, admin, text)
    assert _row_counts(sqlite_engine) == before


def test_a_manager_cannot_create_missing_organisations_or_staff_groups(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    ids = _demo_organisations(sqlite_engine)
    manager = _user(sqlite_engine, Role.manager, ids)
    document = copy.deepcopy(demo_documents[0])
    document["organisations"][0]["staff_groups"].append("Parks")
    document["organisations"].append({"name": "Faraway Council", "short_name": "FAR"})
    before = _row_counts(sqlite_engine)

    with pytest.raises(DomainError) as refused:
        _import(sqlite_engine, manager, document)

    assert refused.value.field == "organisations"
    assert "Faraway Council (FAR)" in refused.value.reason
    assert "the staff group 'Parks' of " in refused.value.reason
    assert "An administrator can add them" in refused.value.reason
    assert _row_counts(sqlite_engine) == before


def test_an_organisation_known_by_another_name_is_refused(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    factories.organisation(sqlite_engine, name="Not Eastbrook", short_name="EDC")
    admin = _admin_elsewhere(sqlite_engine)
    with pytest.raises(DomainError, match="is called 'Not Eastbrook' here"):
        _import(sqlite_engine, admin, demo_documents[0])


def test_a_manager_cannot_import_a_programme_of_another_organisation(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    ids = _demo_organisations(sqlite_engine)
    county_manager = _user(sqlite_engine, Role.manager, [ids[0]])
    district_programme = next(
        d for d in demo_documents if d["programme"]["code"] == "EDC-DIGITAL-PLAN"
    )
    with pytest.raises(PermissionDeniedError, match="not one of your organisations"):
        _import(sqlite_engine, county_manager, district_programme)


def test_leadership_cannot_import(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    leader = _user(sqlite_engine, Role.leadership, _demo_organisations(sqlite_engine))
    with pytest.raises(PermissionDeniedError, match="Only managers and administrators"):
        _import(sqlite_engine, leader, demo_documents[0])


# --- Any damage: imported whole, or refused with nothing written -------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


class _Undo(Exception):
    """Raised after a successful import, so that the example leaves the database as it was."""


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        yield (*path, key)
        if isinstance(child, dict | list):
            yield from _places(child, (*path, key))


@pytest.fixture
def sqlite_admin(sqlite_engine: Engine) -> Viewer:
    return _admin_elsewhere(sqlite_engine)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_damaged_document_is_imported_whole_or_refused_with_nothing_written(
    sqlite_engine: Engine, sqlite_admin: Viewer, data: st.DataObject
) -> None:
    document = _documented_example()
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        place = data.draw(st.sampled_from(list(_places(document))), label="place")
        parent: Any = document
        for key in place[:-1]:
            parent = parent[key]
        if data.draw(st.booleans(), label="delete"):
            del parent[place[-1]]
        else:
            parent[place[-1]] = data.draw(_JSON, label="value")
    before = _row_counts(sqlite_engine)

    try:
        with db.write_session(sqlite_engine, actor=IMPORTER) as session:
            exchange.import_programme(session=session, viewer=sqlite_admin, document=document)
            raise _Undo
    except _Undo:
        pass
    except DomainError as refused:
        assert refused.reason

    assert _row_counts(sqlite_engine) == before


# --- The documentation --------------------------------------------------------------------------


def _documented_example() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1
    document: dict[str, Any] = json.loads(blocks[0])
    return document


def test_the_documentation_describes_every_key_of_the_format() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"version {exchange.VERSION}" in text and f'"{exchange.FORMAT}"' in text
    for name, keys in exchange.SCHEMA.items():
        heading = "## The document" if name == "document" else f"### {name.replace('_', ' ')}"
        assert heading in text, heading
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        for key, spec in keys.items():
            # The row whose first cell names the key (some rows document two keys).
            row = next(
                (
                    line
                    for line in section.splitlines()
                    if line.startswith("|") and f"`{key}`" in line.split("|")[1]
                ),
                None,
            )
            assert row is not None, f"{name}.{key} is not documented"
            assert ("| required |" in row) == spec.required, f"{name}.{key}: required?"


# --- tracker exchange-import ----------------------------------------------------------------------


@pytest.fixture
def target_url(
    migrated_sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """DATABASE_URL pointed at a fresh database with one administrator (IMPORTER)."""
    path = tmp_path / "target.db"
    shutil.copy(migrated_sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    _admin_elsewhere(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    yield url


def test_cli_exchange_import_creates_the_programme_once(
    target_url: str,
    demo_documents: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "programme.json"
    file.write_text(exchange.to_json(demo_documents[0]), encoding="utf-8")
    code = demo_documents[0]["programme"]["code"]

    assert main(["exchange-import", str(file), "--as", IMPORTER]) == 0
    assert f"Imported {code} (" in capsys.readouterr().out
    engine = db.make_engine(target_url)
    assert [_as_file(d) for d in _export_all(engine, [code])] == [_as_file(demo_documents[0])]
    before = _row_counts(engine)

    assert main(["exchange-import", str(file), "--as", IMPORTER]) == 1
    err = capsys.readouterr().err
    assert f"code {code} already exists" in err and "Nothing was imported." in err
    assert _row_counts(engine) == before
    engine.dispose()


@pytest.mark.parametrize(
    ("content", "argv_tail", "expected", "message"),
    [
        ('{"format": "x", "version": 1}', ["--as", IMPORTER], 1, "format: is 'x'"),
        (None, ["--as", IMPORTER], 1, "could not read"),
        (b"\xff\xfe{", ["--as", IMPORTER], 1, "is not UTF-8 text"),
        ("{}", ["--as", "nobody@example.org"], 1, "no active user"),
        ("{}", [], 2, "--as"),
    ],
)
def test_cli_exchange_import_refusals(
    target_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes | None,
    argv_tail: list[str],
    expected: int,
    message: str,
) -> None:
    file = tmp_path / "file.json"
    if isinstance(content, bytes):
        file.write_bytes(content)
    elif content is not None:
        file.write_text(content, encoding="utf-8")
    engine = db.make_engine(target_url)
    before = _row_counts(engine)

    assert main(["exchange-import", str(file), *argv_tail]) == expected
    assert message in capsys.readouterr().err
    assert _row_counts(engine) == before
    engine.dispose()


def test_an_import_records_the_importer_as_author_and_setter(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    # The file names people of another installation: they are kept as words, never as users.
    document = copy.deepcopy(
        next(d for d in demo_documents if d["confidence_overrides"] and d["narratives"])
    )
    document["confidence_overrides"][0]["set_by"] = "forged.chief@elsewhere.example"
    document["narratives"][0]["author"] = "Forged Chief Executive"
    admin = _admin_elsewhere(sqlite_engine)
    _import(sqlite_engine, admin, document)

    (again,) = _export_all(sqlite_engine, [document["programme"]["code"]])

    override = again["confidence_overrides"][0]
    assert override["set_by"] == IMPORTER
    assert "the file says set by forged.chief@elsewhere.example" in override["reason"]
    assert override["reason"].startswith(document["confidence_overrides"][0]["reason"])
    assert again["narratives"][0]["author"] == "Ivo Importer (written by Forged Chief Executive)"


def test_a_file_nested_too_deeply_is_refused_with_a_message(sqlite_engine: Engine) -> None:
    admin = _admin_elsewhere(sqlite_engine)
    deep = '{"format": ' + "[" * 200_000 + "]" * 200_000 + "}"
    with pytest.raises(DomainError, match="nests values too deeply"):
        _import(sqlite_engine, admin, deep)


def test_a_version_1_file_without_data_sharing_still_imports(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    document = copy.deepcopy(next(d for d in demo_documents if d["programme"]["data_sharing"]))
    document["version"] = 1
    del document["programme"]["data_sharing"]
    _import(sqlite_engine, _admin_elsewhere(sqlite_engine), document)

    (again,) = _export_all(sqlite_engine, [document["programme"]["code"]])

    assert again["version"] == exchange.VERSION == 2
    assert again["programme"]["partners"] and again["programme"]["data_sharing"] == []


def test_a_partner_with_a_data_sharing_agreement_keeps_it_through_a_round_trip(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    document = next(d for d in demo_documents if d["programme"]["data_sharing"])
    _import(sqlite_engine, _admin_elsewhere(sqlite_engine), document)

    (again,) = _export_all(sqlite_engine, [document["programme"]["code"]])

    assert again["programme"]["data_sharing"] == document["programme"]["data_sharing"] == ["NCC"]


def test_the_installation_imports_its_own_files_as_written_and_a_person_never_may(
    sqlite_engine: Engine, demo_documents: list[dict[str, Any]]
) -> None:
    document = next(d for d in demo_documents if d["confidence_overrides"] and d["narratives"])
    admin = _admin_elsewhere(sqlite_engine)
    with db.write_session(sqlite_engine, actor=IMPORTER) as session:
        with pytest.raises(ValueError, match="installation's own files"):
            exchange.import_programme(
                session=session, viewer=admin, document=document, as_written=True
            )
        exchange.import_programme(
            session=session, viewer=SYSTEM, document=document, as_written=True
        )

    (again,) = _export_all(sqlite_engine, [document["programme"]["code"]])

    assert again["confidence_overrides"] == document["confidence_overrides"]
    assert again["narratives"] == document["narratives"]


def test_moving_dates_moves_every_date_and_datetime_and_nothing_else(
    demo_documents: list[dict[str, Any]],
) -> None:
    document = next(d for d in demo_documents if d["confidence_overrides"])
    seen: set[str] = set()

    def move(where: str, value: dt.date) -> dt.date:
        seen.add(where)
        return value + dt.timedelta(days=1)

    moved = exchange.move_dates(document, move)

    dated = {
        f"{name}.{key}"
        for name, keys in exchange.SCHEMA.items()
        for key, spec in keys.items()
        if spec.kind.rstrip("?") in ("date", "datetime")
    }
    assert seen == dated - {"programme.closed_on"}  # the demo has no closed programme
    assert (
        moved["programme"]["start_date"]
        == (
            dt.date.fromisoformat(document["programme"]["start_date"]) + dt.timedelta(days=1)
        ).isoformat()
    )
    override = moved["confidence_overrides"][0]
    assert dt.datetime.fromisoformat(override["set_at"]) == dt.datetime.fromisoformat(
        document["confidence_overrides"][0]["set_at"]
    ) + dt.timedelta(days=1)
    assert moved["barriers"] == document["barriers"]
    assert document["programme"]["start_date"] != moved["programme"]["start_date"]


# --- Queries ------------------------------------------------------------------------------------


def _statements(engine: Engine, run: Any) -> list[str]:
    """The SQL statements `run()` sends to the engine."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return sent


def test_an_export_reads_each_table_once_whatever_the_programme_holds(
    shared_demo_engine: Engine,
) -> None:
    with db.read_session(shared_demo_engine) as session:
        viewer = load_viewer(session, email=ADMIN)
        assert viewer is not None
        ids = session.exec(select(Programme.id)).all()
        counts = set()
        for programme_id in ids:
            sent = _statements(
                shared_demo_engine,
                lambda pid=int(programme_id or 0): exchange.export_programme(
                    session=session, viewer=viewer, programme_id=pid
                ),
            )
            counts.add(len([s for s in sent if s.lstrip().upper().startswith("SELECT")]))
    # The permission check, then one query per table: the same for every programme.
    assert counts == {21}
