"""How fast the two leadership pages are at scale, against the floor and the naive approach.

Run it with one command from the repository root (it sets up .venv and PostgreSQL itself):

    bench/run                       # S, M and L on SQLite and PostgreSQL; writes bench/RESULTS.md
    bench/run --sizes S,M           # a quicker run
    bench/run --databases sqlite    # no PostgreSQL

For each database and size it generates a portfolio with `tracker generate --size X --seed 1`
into a fresh database, then, in a new process that plays the app (Streamlit's AppTest runs the
real page scripts in this process, as a server would), measures:

- **cold**: one script run of the page with Streamlit's data caches (and the remembered delivery
  forecasts) cleared;
- **warm**: the next run of the same page, caches filled;
- **raw SQL**, the floor: every SELECT that the cold run sent to the database, captured at the
  driver and replayed on a raw driver connection, results fetched, nothing else;
- **naive**, in its own process: what most Streamlit dashboards do on every rerun: read the
  tables into pandas and compute the same figures there;
- **peak RSS** of the app process and of the naive one.

Times are medians of several runs, all in one run of this script on one machine, so the ratios
compare like with like. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

APP = str(ROOT / "streamlit_app.py")
RESULTS = ROOT / "bench" / "RESULTS.md"
WORK = Path(os.environ.get("TRACKER_BENCH_DIR", "/tmp/tracker-bench"))
SIZES = ("S", "M", "L")
SEED = 1
PAGES = {"portfolio": "pages/portfolio.py", "programme": "pages/programme.py"}
PAGE_NAMES = {"portfolio": "Portfolio page", "programme": "Programme dashboard"}
NOTES_MARK = "<!-- notes: kept when the benchmark rewrites this file -->"


# --- The app process ------------------------------------------------------------------------


@contextmanager
def captured_selects() -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT any engine sends while the block runs, as the driver received it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip()[:6].upper() in {"SELECT", "WITH R", "WITH "}:
            statements.append((statement, parameters))

    sa.event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(Engine, "before_cursor_execute", record)


def replay(url: str, statements: list[tuple[str, Any]], repeat: int) -> float:
    """Median seconds to run `statements` on a raw driver connection, fetching every row."""
    from tracker import db

    engine = db.make_engine(url)
    connection = engine.raw_connection()
    times = []
    try:
        for _ in range(repeat + 1):
            cursor = connection.cursor()
            started = time.perf_counter()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            times.append(time.perf_counter() - started)
            cursor.close()
            connection.rollback()
    finally:
        connection.close()
        engine.dispose()
    return statistics.median(times[1:])


def leadership_email(url: str) -> tuple[str, str]:
    """The leadership user who sees the most organisations, and the first programme's code."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        email = connection.execute(
            sa.text(
                "SELECT u.email FROM app_user u JOIN user_organisation uo ON uo.user_id = u.id "
                "WHERE u.role = 'leadership' AND u.active GROUP BY u.id, u.email "
                "ORDER BY count(*) DESC, u.id LIMIT 1"
            )
        ).scalar_one()
        code = connection.execute(
            sa.text("SELECT code FROM programme ORDER BY id LIMIT 1")
        ).scalar_one()
    engine.dispose()
    return str(email), str(code)


def measure_app(url: str, repeat: int) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    import streamlit as st
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    # AppTest compiles the page scripts afresh on every run; a server keeps them compiled for
    # its life. Share one script cache across runs, as the server does.
    script_cache = ScriptCache()
    app_test.ScriptCache = lambda: script_cache  # type: ignore[attr-defined]

    from tracker import read

    email, code = leadership_email(url)
    app = AppTest.from_file(APP, default_timeout=900)
    app.user = {"is_logged_in": True, "email": email}
    app.run()
    assert not app.exception, app.exception
    results: dict[str, Any] = {"viewer": email, "programme_code": code}
    for page, path in PAGES.items():
        app.switch_page(path)
        if page == "programme":
            app.query_params["programme"] = code
        app.run()  # the page's first run: imports its modules
        assert not app.exception, app.exception
        cold, warm = [], []
        statements: list[tuple[str, Any]] = []
        for _ in range(repeat):
            # Cold: every cache the page run could use is emptied, the remembered delivery
            # forecasts included; only the engine (its connection pool) stays.
            st.cache_data.clear()
            read.programme.forget_forecasts()
            with captured_selects() as captured:
                started = time.perf_counter()
                app.run()
                cold.append(time.perf_counter() - started)
            statements = captured
            started = time.perf_counter()
            app.run()
            warm.append(time.perf_counter() - started)
            assert not app.exception, app.exception
        title = app.title[0].value if app.title else ""
        results[page] = {
            "cold": statistics.median(cold),
            "warm": statistics.median(warm),
            "raw": replay(url, statements, repeat),
            "statements": len(statements),
            "title": title,
            "tables": sum(len(frame.value) for frame in app.dataframe),
        }
    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


# --- The naive approach ---------------------------------------------------------------------

NAIVE_TABLES = (
    "programme",
    "organisation",
    "milestone",
    "stage_record",
    "stakeholder",
    "assessment",
    "barrier",
    "metric",
    "metric_reading",
)


def naive_load(url: str) -> dict[str, Any]:
    """Every table the dashboards draw on, read whole into pandas, as a naive page does."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        frames = {
            table: pd.read_sql(sa.text(f"SELECT * FROM {table}"), connection)
            for table in NAIVE_TABLES
        }
    engine.dispose()
    for table in ("milestone",):
        for column in ("due_date", "completed_date"):
            frames[table][column] = pd.to_datetime(frames[table][column])
    frames["assessment"]["assessed_on"] = pd.to_datetime(frames["assessment"]["assessed_on"])
    frames["metric_reading"]["reading_on"] = pd.to_datetime(frames["metric_reading"]["reading_on"])
    return frames


def _stance_as_of(assessments: Any, day: Any) -> Any:
    """Each stakeholder's latest assessed stance on or before `day`."""
    before = assessments[assessments["assessed_on"] <= day]
    return before.sort_values("assessed_on").groupby("stakeholder_id").tail(1)


def naive_portfolio(url: str, today: dt.date) -> Any:
    import pandas as pd

    f = naive_load(url)
    now = pd.Timestamp(today)
    m = f["milestone"]
    m = m[m["status"] != "cancelled"].copy()
    m["done"] = m["status"] == "done"
    m["overdue"] = (~m["done"]) & (m["due_date"] < now)
    m["blocked"] = m["status"] == "blocked"
    m["weight_done"] = m["weight"].where(m["done"], 0)
    work = m.groupby("programme_id").agg(
        milestones=("id", "size"),
        done=("done", "sum"),
        overdue=("overdue", "sum"),
        blocked=("blocked", "sum"),
        weight=("weight", "sum"),
        weight_done=("weight_done", "sum"),
    )
    work["progress"] = work["weight_done"] / work["weight"]
    people = f["stakeholder"][["id", "programme_id", "influence"]]
    stance = {}
    for label, day in (("now", now), ("then", now - pd.Timedelta(days=90))):
        latest = _stance_as_of(f["assessment"], day).merge(
            people, left_on="stakeholder_id", right_on="id", suffixes=("", "_person")
        )
        latest["weighted"] = latest["stance"] * latest["influence_person"]
        sums = latest.groupby("programme_id")[["weighted", "influence_person"]].sum()
        stance[label] = sums["weighted"] / sums["influence_person"]
        if label == "now":
            hot = latest[(latest["influence_person"] >= 4) & (latest["stance"] <= -1)]
            stance["hotspots"] = hot.groupby("programme_id").size()
    stages = f["stage_record"]
    current = stages[stages["actual_start"].notna() & stages["actual_end"].isna()]
    table = (
        f["programme"]
        .merge(f["organisation"][["id", "name"]], left_on="organisation_id", right_on="id")
        .set_index("id_x")
        .join(work)
        .join(current.groupby("programme_id")["stage"].agg(",".join).rename("stages"))
    )
    table["stance_index"] = stance["now"]
    table["stance_change"] = stance["now"] - stance["then"]
    table["hotspots"] = stance["hotspots"]
    return table.sort_values("title")


def naive_programme(url: str, today: dt.date, code: str) -> Any:
    import pandas as pd

    f = naive_load(url)
    now = pd.Timestamp(today)
    programme = f["programme"][f["programme"]["code"] == code].iloc[0]
    pid = programme["id"]
    m = f["milestone"][f["milestone"]["programme_id"] == pid].copy()
    m["done"] = m["status"] == "done"
    m["overdue"] = (~m["done"]) & (m["status"] != "cancelled") & (m["due_date"] < now)
    by_stage = m.groupby("stage").agg(
        milestones=("id", "size"), done=("done", "sum"), overdue=("overdue", "sum")
    )
    people = f["stakeholder"][f["stakeholder"]["programme_id"] == pid]
    assessed = f["assessment"][f["assessment"]["stakeholder_id"].isin(people["id"])].copy()
    assessed["month"] = assessed["assessed_on"].dt.to_period("M")
    history = (
        assessed.sort_values("assessed_on")
        .groupby(["month", "stakeholder_id"])
        .tail(1)
        .groupby("month")["stance"]
        .mean()
    )
    latest = _stance_as_of(assessed, now)
    metrics = f["metric"][f["metric"]["programme_id"] == pid]
    readings = f["metric_reading"][f["metric_reading"]["metric_id"].isin(metrics["id"])]
    last = readings.sort_values("reading_on").groupby("metric_id").tail(1)
    barriers = f["barrier"][f["barrier"]["programme_id"] == pid]
    matrix = barriers.groupby(["likelihood", "impact"]).size()
    return by_stage, history, latest, last, matrix, m[m["overdue"]]


def measure_naive(url: str, repeat: int) -> dict[str, Any]:
    from tracker import clock

    _, code = leadership_email(url)
    today = clock.today()
    results: dict[str, Any] = {}
    for page, run in (
        ("portfolio", lambda: naive_portfolio(url, today)),
        ("programme", lambda: naive_programme(url, today, code)),
    ):
        run()  # once untimed, as the app's first run is: imports and connections
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        results[page] = {"naive": statistics.median(times)}
    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


# --- Orchestration --------------------------------------------------------------------------


def prepare(database: str, size: str, postgres: str) -> tuple[str, float, dict[str, int]]:
    """A fresh database of `size`, filled by the real command. Returns its URL, the seconds the
    command took, and its row counts."""
    import sqlalchemy as sa

    if database == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / f"{size}.db"
        for leftover in WORK.glob(f"{size}.db*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
    else:
        name = f"tracker_bench_{size.lower()}"
        admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = sa.make_url(postgres).set(database=name).render_as_string(hide_password=False)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tracker.cli", "generate", "--size", size, "--seed", str(SEED)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
    )
    seconds = time.perf_counter() - started
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {
            table: int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("programme", "milestone", "stakeholder", "assessment", "metric_reading")
        }
    engine.dispose()
    return url, seconds, counts


def child(mode: str, url: str, repeat: int) -> dict[str, Any]:
    """Run one measurement in a new process, so its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--repeat", str(repeat)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TRACKER_DEMO": "1"},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def versions(postgres: str | None) -> dict[str, str]:
    import importlib.metadata as metadata
    import sqlite3

    import sqlalchemy as sa

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())
        memory = f"{int(found.group(1)) / 1024**2:.1f} GiB" if found else memory
    info = {
        "Machine": f"{cpu}, {os.cpu_count()} cores, {memory} RAM, {platform.platform()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
    }
    for package in ("streamlit", "sqlalchemy", "sqlmodel", "pandas", "psycopg"):
        info[package] = metadata.version(package)
    if postgres:
        engine = sa.create_engine(postgres)
        with engine.connect() as connection:
            info["PostgreSQL"] = str(connection.exec_driver_sql("SHOW server_version").scalar())
        engine.dispose()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    info["Commit"] = commit.stdout.strip() or "unknown"
    return info


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def ratio(value: float) -> str:
    return f"{value:.2f}×" if value < 10 else f"{value:,.0f}×"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(runs: dict[str, dict[str, dict[str, Any]]], info: dict[str, str], command: str) -> str:
    lines = [
        "# Benchmark: the portfolio page and the programme dashboard at scale",
        "",
        f"Written by `{command}` on {dt.date.today().isoformat()}; every figure below comes from "
        "that one run on one machine. Times are medians; ratios compare figures of the same run.",
        "",
        *(f"- **{key}**: {value}" for key, value in info.items()),
        "",
        "How each figure is taken: see the docstring of `bench/benchmark.py`. In short: *cold* is "
        "one script run of the page with Streamlit's data caches cleared, *warm* the next run, "
        "*raw SQL* replays on a bare driver connection every SELECT the cold run sent (the floor), "
        "*naive* reads the tables into pandas and computes the same figures, as many Streamlit "
        "dashboards do on every rerun. Peak RSS is that of the process running the page.",
        "",
    ]
    for database, sizes in runs.items():
        lines += [f"## {'SQLite' if database == 'sqlite' else 'PostgreSQL'}", ""]
        lines += [
            "| size | programmes | milestones | stakeholders | assessments | metric readings "
            "| generate |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for size, run in sizes.items():
            c = run["counts"]
            lines.append(
                f"| {size} | {c['programme']:,} | {c['milestone']:,} | {c['stakeholder']:,} "
                f"| {c['assessment']:,} | {c['metric_reading']:,} | {run['generate']:.1f} s |"
            )
        lines.append("")
        for page in PAGES:
            lines += [
                f"### {PAGE_NAMES[page]}",
                "",
                "| size | raw SQL (floor) | cold run | cold ÷ raw | warm run | warm ÷ raw "
                "| naive | naive ÷ cold | statements | peak RSS app / naive |",
                "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
            ]
            for size, run in sizes.items():
                p = run["app"][page]
                naive = run["naive"][page]["naive"]
                lines.append(
                    f"| {size} | {ms(p['raw'])} | {ms(p['cold'])} | {ratio(p['cold'] / p['raw'])} "
                    f"| {ms(p['warm'])} | {ratio(p['warm'] / p['raw'])} | {ms(naive)} "
                    f"| {ratio(naive / p['cold'])} | {p['statements']} "
                    f"| {run['app']['rss_mb']:.0f} MB / {run['naive']['rss_mb']:.0f} MB |"
                )
            growth = []
            ordered = [s for s in SIZES if s in sizes]
            for small, large in zip(ordered, ordered[1:], strict=False):
                a, b = sizes[small]["app"][page], sizes[large]["app"][page]
                growth.append(
                    f"{small}→{large}: cold {ratio(b['cold'] / a['cold'])}, "
                    f"warm {ratio(b['warm'] / a['warm'])}, raw {ratio(b['raw'] / a['raw'])}"
                )
            if growth:
                lines += ["", "Growth per 10× data: " + "; ".join(growth) + "."]
            lines.append("")
        if "L" in sizes:
            lines += targets(sizes)
    return "\n".join(lines) + "\n"


def targets(sizes: dict[str, dict[str, Any]]) -> list[str]:
    large = sizes["L"]
    lines = [
        "### Targets at L",
        "",
        "| target | portfolio page | programme dashboard |",
        "|---|---|---|",
    ]
    checks: list[tuple[str, Callable[[dict[str, Any], str], tuple[str, bool]]]] = [
        (
            "cold run ≤ 2× raw SQL",
            lambda p, _: (ratio(p["cold"] / p["raw"]), p["cold"] <= 2 * p["raw"]),
        ),
        (
            "warm run ≤ 0.5× raw SQL",
            lambda p, _: (ratio(p["warm"] / p["raw"]), p["warm"] <= 0.5 * p["raw"]),
        ),
        (
            "≥ 10× faster than naive",
            lambda p, page: (
                ratio(large["naive"][page]["naive"] / p["cold"]),
                large["naive"][page]["naive"] >= 10 * p["cold"],
            ),
        ),
    ]
    for name, check in checks:
        cells = []
        for page in PAGES:
            shown, ok = check(large["app"][page], page)
            cells.append(f"{shown}: {verdict(ok)}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    if {"S", "M"} <= set(sizes):
        cells = []
        for page in PAGES:
            worst = max(
                sizes[b]["app"][page]["cold"] / sizes[a]["app"][page]["cold"]
                for a, b in (("S", "M"), ("M", "L"))
            )
            cells.append(f"worst cold step {ratio(worst)}: {verdict(worst <= 2)}")
        lines.append(f"| growth ≤ 2× per 10× data | {' | '.join(cells)} |")
    rss = large["app"]["rss_mb"]
    lines.append(f"| peak RSS ≤ 500 MB | {rss:.0f} MB: {verdict(rss <= 500)} | (same process) |")
    return lines + [""]


def write_results(text: str) -> None:
    notes = ""
    if RESULTS.exists():
        old = RESULTS.read_text(encoding="utf-8")
        if NOTES_MARK in old:
            notes = old[old.index(NOTES_MARK) :]
    RESULTS.write_text(text + ("\n" + notes if notes else "\n" + NOTES_MARK + "\n"), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("TRACKER_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--child", choices=["app", "naive"])
    parser.add_argument("--url")
    parser.add_argument("--no-write", action="store_true", help="print, don't write RESULTS.md")
    args = parser.parse_args(argv)

    if args.child:
        measure = measure_app if args.child == "app" else measure_naive
        print(json.dumps(measure(args.url, args.repeat)))
        return 0

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if "postgres" in databases and not args.postgres:
        parser.error(
            "PostgreSQL needs --postgres URL or TRACKER_BENCH_POSTGRES_URL (bench/run sets it)"
        )
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    for database in databases:
        for size in sizes:
            print(f"== {database} {size}: generating", file=sys.stderr, flush=True)
            url, seconds, counts = prepare(database, size, args.postgres)
            # Fewer naive repeats at L: each one reads every table.
            naive_repeat = max(1, args.repeat // 2) if size == "L" else args.repeat
            print(f"== {database} {size}: measuring the app", file=sys.stderr, flush=True)
            app = child("app", url, args.repeat)
            print(
                f"== {database} {size}: measuring the naive approach", file=sys.stderr, flush=True
            )
            naive = child("naive", url, naive_repeat)
            runs.setdefault(database, {})[size] = {
                "generate": seconds,
                "counts": counts,
                "app": app,
                "naive": naive,
            }
            print(json.dumps(runs[database][size]), file=sys.stderr, flush=True)
    command = "bench/run" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    text = report(runs, versions(args.postgres if "postgres" in databases else None), command)
    if args.no_write:
        print(text)
    else:
        write_results(text)
        print(f"Wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
