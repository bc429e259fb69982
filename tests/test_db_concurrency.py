"""Concurrency under load (RELIABILITY.md #7 and #8), on SQLite and PostgreSQL: a thousand writes
racing from threads in this process and in two other processes, all released at once by one
barrier, neither fail ("database is locked") nor lose a write; and a thousand racing saves made
from a version read beforehand, as a form is built, are each either saved or refused as stale,
never lost. Also: the data version that cached reads key on moves with every commit, whatever
order concurrent transactions commit in.

Every thread and process reports what went wrong instead of stopping at the first error, so a
failure lists every error. The counts are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from tests import factories
from tests.factories import SYSTEM
from tracker import db
from tracker.errors import ConflictError
from tracker.models import AuditEvent, Milestone, MilestoneUpdate, Organisation
from tracker.models.organisation import OrganisationCreate
from tracker.services import milestones, organisations, records

# Ten writers, all started by one barrier: four threads here and three in each of two other
# processes, each making a hundred writes: a thousand in all.
THREADS_HERE = 4
PROCESSES = 2
THREADS_PER_PROCESS = 3
PER_THREAD = 100
WRITERS = THREADS_HERE + PROCESSES * THREADS_PER_PROCESS
TOTAL = WRITERS * PER_THREAD
# Seconds to wait for every writer to reach the barrier (the first processes wait for the fork
# server to import the app), and for the writers to finish.
BARRIER_TIMEOUT_S = 90
JOIN_TIMEOUT_S = 240
SHOWN_FAILURES = 20


@dataclass
class Outcome:
    """What some writers did: writes done, stale saves saved (as [version, value]) or refused,
    and every error, as text."""

    done: int = 0
    saved: list[tuple[int, str]] = field(default_factory=list)
    refused: int = 0
    failures: list[str] = field(default_factory=list)
    # Seconds from the barrier's release to the last write (the longest of the processes').
    racing: float = 0.0

    def add(self, other: Outcome) -> None:
        self.racing = max(self.racing, other.racing)
        self.done += other.done
        self.saved += other.saved
        self.refused += other.refused
        self.failures += other.failures

    def to_json(self) -> str:
        return json.dumps(
            {
                "done": self.done,
                "saved": self.saved,
                "refused": self.refused,
                "failures": self.failures,
                "racing": self.racing,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data = json.loads(text)
        return cls(
            done=data["done"],
            saved=[(int(version), str(value)) for version, value in data["saved"]],
            refused=data["refused"],
            failures=list(data["failures"]),
            racing=float(data["racing"]),
        )


def _error_text(where: str, error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return f"{where}: {''.join(lines).strip()}"


# --- The writes ---------------------------------------------------------------------------------


def write_one(engine: Engine, label: str, counter_id: int, outcome: Outcome) -> None:
    """One organisation created and the shared counter edited, in one transaction."""
    factories.organisation_and_counter_change(engine, label, counter_id)
    outcome.done += 1


def save_from_what_was_read(
    engine: Engine, label: str, milestone_id: int, outcome: Outcome
) -> None:
    """A form's save: the milestone's version is read when the form is built (one transaction),
    and the save (another) names that version, as the Milestones page does. Others may have
    saved in between: then the save must be refused with ConflictError, and nothing written."""
    with db.read_session(engine) as session:
        opened = records.get(session, Milestone, milestone_id).version
    title = f"Title saved by {label}"
    try:
        with db.write_session(engine, actor=f"{label.lower()}@example.org") as session:
            saved = milestones.update_milestone(
                session=session,
                viewer=SYSTEM,
                milestone_id=milestone_id,
                data=records.validated(MilestoneUpdate, {"title": title, "version": opened}),
            )
            version = saved.version
    except ConflictError:
        outcome.refused += 1
    else:
        outcome.saved.append((version, title))


JOBS: dict[str, Callable[[Engine, str, int, Outcome], None]] = {
    "write": write_one,
    "save": save_from_what_was_read,
}


# --- Writers in threads, here or in another process ----------------------------------------------


def race(
    engine: Engine, job: str, prefix: str, threads: int, target_id: int, start: Any
) -> Outcome:
    """`threads` threads each doing `job` PER_THREAD times on record `target_id`, once every
    writer everywhere has reached the barrier `start`. Every error is kept, none stops the rest."""
    outcomes = [Outcome() for _ in range(threads)]
    released: list[float] = []

    def writer(thread: int) -> None:
        outcome = outcomes[thread]
        name = f"{prefix}-T{thread}"
        try:
            start.wait(timeout=BARRIER_TIMEOUT_S)
        except BaseException as error:
            outcome.failures.append(_error_text(f"{name} at the barrier", error))
            return
        released.append(time.perf_counter())
        for n in range(PER_THREAD):
            try:
                JOBS[job](engine, f"{name}-{n}", target_id, outcome)
            except BaseException as error:  # reported by the test, "database is locked" included
                outcome.failures.append(_error_text(f"{name} {job} {n}", error))

    running = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=JOIN_TIMEOUT_S)
    total = Outcome(racing=time.perf_counter() - min(released, default=time.perf_counter()))
    for thread, outcome in zip(running, outcomes, strict=True):
        total.add(outcome)
        if thread.is_alive():
            total.failures.append(f"{prefix}: {thread.name} still running after {JOIN_TIMEOUT_S} s")
    return total


def race_in_a_process(
    job: str, url: str, prefix: str, target_id: int, start: Any, report: str
) -> None:
    """Run in another process: `race` through the process's own engine, its outcome written
    as JSON to the file `report`, whatever happens."""
    outcome = Outcome()
    try:
        engine = db.make_engine(url)
        try:
            outcome = race(engine, job, prefix, THREADS_PER_PROCESS, target_id, start)
        finally:
            engine.dispose()
    except BaseException as error:
        outcome.failures.append(_error_text(prefix, error))
    finally:
        Path(report).write_text(outcome.to_json(), encoding="utf-8")


def race_everywhere(
    engine: Engine, job: str, target_id: int, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Outcome, float]:
    """`job` done TOTAL times at once: THREADS_HERE threads here and THREADS_PER_PROCESS in each
    of PROCESSES other processes, all released by one barrier. Gives everyone's outcome and
    the seconds it took."""
    # A new child re-runs the parent's __main__ by path. After an AppTest, Streamlit has left
    # streamlit_app.py there, so give the children a blank one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    # Children are forked from a fork server, a fresh single-threaded process started once (so
    # none inherits this process's threads, connections or locks), which has imported this
    # module and so the app: each child starts at once instead of importing for seconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    start = context.Barrier(WRITERS)
    url = engine.url.render_as_string(hide_password=False)
    reports = {f"P{n}": folder / f"{job}-P{n}.json" for n in range(1, PROCESSES + 1)}
    processes = {
        prefix: context.Process(
            target=race_in_a_process, args=(job, url, prefix, target_id, start, str(report))
        )
        for prefix, report in reports.items()
    }
    began = time.perf_counter()
    for process in processes.values():
        process.start()
    outcome = race(engine, job, "H", THREADS_HERE, target_id, start)
    for prefix, process in processes.items():
        process.join(timeout=JOIN_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
        report = reports[prefix]
        if report.exists():
            outcome.add(Outcome.from_json(report.read_text(encoding="utf-8")))
        if process.exitcode != 0 or not report.exists():
            outcome.failures.append(
                f"{prefix}: process exited with code {process.exitcode}"
                + ("" if report.exists() else " and reported nothing")
            )
    return outcome, time.perf_counter() - began


# --- Checks -------------------------------------------------------------------------------------


def _count(engine: Engine, table: type[Any]) -> int:
    with db.read_session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _audited_updates(engine: Engine, record_type: str, record_id: int) -> list[dict[str, Any]]:
    """The record's values after each audited update, oldest first."""
    with db.read_session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.record_type == record_type,
                AuditEvent.record_id == str(record_id),
                AuditEvent.action == "update",
            )
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        ).all()
    return [json.loads(event.after or "{}") for event in events]


def _kind(engine: Engine) -> str:
    return "postgres" if engine.dialect.name == "postgresql" else engine.dialect.name


def _no_failures(kind: str, outcome: Outcome) -> None:
    failures = outcome.failures
    locked = sum("database is locked" in failure for failure in failures)
    shown = "\n".join(failures[:SHOWN_FAILURES])
    more = (
        f"\n... and {len(failures) - SHOWN_FAILURES} more" if len(failures) > SHOWN_FAILURES else ""
    )
    assert not failures, (
        f"{kind}: {len(failures)} errors ({locked} 'database is locked'):\n{shown}{more}"
    )


# --- The tests ----------------------------------------------------------------------------------


def test_a_thousand_racing_writes_from_threads_and_two_processes_fail_none_and_lose_none(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = _kind(engine)
    if kind == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    counter_id = factories.organisation(engine, name="Counter", short_name="COUNTER")
    events_before = _count(engine, AuditEvent)

    outcome, seconds = race_everywhere(engine, "write", counter_id, tmp_path, monkeypatch)
    errors = len(outcome.failures)
    print(
        f"\n{kind}: {TOTAL} writes from {WRITERS} threads in {1 + PROCESSES} processes in "
        f"{outcome.racing:.1f} s ({seconds:.1f} s with start-up), {errors} errors, "
        f"{outcome.done} done"
    )

    _no_failures(kind, outcome)
    assert outcome.done == TOTAL
    # Every write's organisation is there, once.
    with db.read_session(engine) as session:
        names = session.exec(select(Organisation.name)).all()
    writers = [f"H-T{t}" for t in range(THREADS_HERE)] + [
        f"P{p}-T{t}" for p in range(1, PROCESSES + 1) for t in range(THREADS_PER_PROCESS)
    ]
    expected = {f"Writer {w}-{n}" for w in writers for n in range(PER_THREAD)}
    created = [name for name in names if name.startswith("Writer ")]
    assert len(created) == len(set(created)) == TOTAL
    assert set(created) == expected
    assert _count(engine, Organisation) == 1 + TOTAL
    # The counter was updated by every write, each on top of the one before: no lost update.
    with db.read_session(engine) as session:
        counter = records.get(session, Organisation, counter_id)
    assert counter.version == 1 + TOTAL
    updates = _audited_updates(engine, "organisation", counter_id)
    assert [update["version"] for update in updates] == list(range(2, 2 + TOTAL))
    assert updates[-1]["name"] == counter.name
    # Each write: one organisation created, one counter update; nothing else.
    assert _count(engine, AuditEvent) - events_before == 2 * TOTAL


def test_a_thousand_racing_saves_of_what_was_read_are_each_saved_or_refused_never_lost(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = _kind(engine)
    programme_id = factories.programme(engine)
    milestone_id = factories.milestone(engine, programme_id, title="Title as first written")
    events_before = _count(engine, AuditEvent)

    outcome, seconds = race_everywhere(engine, "save", milestone_id, tmp_path, monkeypatch)
    saved = len(outcome.saved)
    print(
        f"\n{kind}: {TOTAL} saves from {WRITERS} threads in {1 + PROCESSES} processes in "
        f"{outcome.racing:.1f} s ({seconds:.1f} s with start-up), {len(outcome.failures)} "
        f"errors, {saved} saved, {outcome.refused} refused as stale"
    )

    _no_failures(kind, outcome)
    assert saved + outcome.refused == TOTAL
    # The race really happened: some saves came after another's, and were refused.
    assert saved > 0
    assert outcome.refused > 0
    # Each save that succeeded wrote the next version: two saves that both claim the same
    # version mean the second overwrote the first without seeing it (a lost update).
    versions = sorted(version for version, _ in outcome.saved)
    claimed_twice = sorted({v for v in versions if versions.count(v) > 1})
    assert not claimed_twice, (
        f"{kind}: {len(versions) - len(set(versions))} saves reported success on a version "
        f"another save also wrote (lost updates), e.g. versions {claimed_twice[:10]}"
    )
    assert versions == list(range(2, 2 + saved))
    with db.read_session(engine) as session:
        final = records.get(session, Milestone, milestone_id)
    assert final.version == 1 + saved
    last_version, last_title = max(outcome.saved)
    assert final.title == last_title
    # The audit trail holds exactly the saves that succeeded, in order; refused ones left none.
    updates = _audited_updates(engine, "milestone", milestone_id)
    assert [update["version"] for update in updates] == versions
    assert [update["title"] for update in updates] == [title for _, title in sorted(outcome.saved)]
    assert _count(engine, AuditEvent) - events_before == saved
    assert last_version == final.version


@pytest.mark.postgres
def test_data_version_moves_when_a_transaction_that_began_first_commits_last(
    postgres_engine: Engine,
) -> None:
    """Cached reads key on the data version (pages/_common.py), so every commit must change it,
    in whatever order concurrent transactions commit. (SQLite's writers take turns, BEGIN
    IMMEDIATE, so there a transaction that began later cannot commit first.)"""
    engine = postgres_engine
    with db.write_session(engine, actor="slow@example.org") as slow:
        organisations.create_organisation(
            session=slow,
            viewer=SYSTEM,
            data=records.validated(
                OrganisationCreate, {"name": "Slow Council", "short_name": "SLOW"}
            ),
        )  # flushed: its audit event is written now, uncommitted
        with db.write_session(engine, actor="quick@example.org") as quick:
            organisations.create_organisation(
                session=quick,
                viewer=SYSTEM,
                data=records.validated(
                    OrganisationCreate, {"name": "Quick Council", "short_name": "QUICK"}
                ),
            )
        # Another process reads now, and caches what it reads under this version.
        with db.read_session(engine) as session:
            cached_under = db.data_version(session)
            names = set(session.exec(select(Organisation.name)).all())
        assert names == {"Quick Council"}
    with db.read_session(engine) as session:
        now = db.data_version(session)
        names = set(session.exec(select(Organisation.name)).all())
    assert names == {"Quick Council", "Slow Council"}
    assert now != cached_under, (
        f"the data version is still {now} after 'Slow Council' was committed: every process "
        "that cached a read at that version keeps showing the data without it"
    )
