"""The `tracker` command: a thin shell over the same functions the app uses.

Each subcommand is one function that takes the parsed arguments and returns an exit code; to add
one, write the function and register it in `build_parser`. The database is DATABASE_URL's (or
the SQLite file data/tracker.db).

Exit codes: 0 done, 1 refused (a domain error, or the database could not be used), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from tracker import access, clock, db, demo
from tracker.errors import DomainError, NotFoundError
from tracker.models import Programme

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace], int]


@contextmanager
def _engine() -> Iterator[Engine]:
    engine = db.make_engine()
    try:
        yield engine
    finally:
        engine.dispose()


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def migrate_command(args: argparse.Namespace) -> int:
    """Upgrade the database to the newest schema and say which revision it is at."""
    with _engine() as engine:
        db.migrate(engine)
        revision = db.current_revision(engine)
        print(f"Database {_where(engine)} is at revision {revision} (head).")
    return EXIT_OK


def demo_command(args: argparse.Namespace) -> int:
    """Migrate, then seed the demo portfolio (after wiping everything, with --reset)."""
    with _engine() as engine:
        db.migrate(engine)
        summary = demo.seed_demo(engine, reset=args.reset)
    print(summary.describe())
    if summary.created:
        print("In the app, pick any of these demo users in the sidebar under 'Viewing as':")
        for user in demo.DEMO_USERS:
            print(f"  {user.email:<28} {user.role.value:<11} {user.description}")
    return EXIT_OK


def pack_command(args: argparse.Namespace) -> int:
    """Write a programme's board pack (or, with --portfolio, a user's portfolio pack) as a PDF
    and say where it went and how many pages it has."""
    from tracker import pack  # the PDF libraries load only when a pack is asked for

    if bool(args.programme) == bool(args.portfolio):
        print("tracker pack: name a programme code, or use --portfolio --as EMAIL", file=sys.stderr)
        return EXIT_USAGE
    if args.portfolio and not args.email:
        print("tracker pack: --portfolio needs --as EMAIL (whose programmes)", file=sys.stderr)
        return EXIT_USAGE
    today = clock.today()
    with _engine() as engine, db.read_session(engine) as session:
        viewer = None
        if args.email:
            viewer = access.load_viewer(session, email=args.email)
            if viewer is None:
                raise NotFoundError("as", f"no active user has the e-mail {args.email}")
        if args.portfolio:
            assert viewer is not None
            data = pack.portfolio_pack(session=session, viewer=viewer, today=today)
            name = f"portfolio-board-pack-{today.isoformat()}.pdf"
        else:
            code = args.programme.strip().upper()
            programme = session.exec(select(Programme).where(Programme.code == code)).first()
            if programme is None or programme.id is None:
                raise NotFoundError("programme", f"no programme has the code {code}")
            if viewer is not None:
                access.require_programme(session, viewer, programme.id)
            data = pack.programme_pack(
                session=session,
                programme_id=programme.id,
                today=today,
                viewer_name=viewer.name if viewer else "the programme board",
            )
            name = f"{code}-board-pack-{today.isoformat()}.pdf"
    out = Path(args.out) if args.out else Path.cwd() / name
    try:
        out.write_bytes(data)
    except OSError as error:
        print(f"tracker pack: could not write {out}: {error.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    pages = pack.page_count(data)
    print(f"Wrote {out} ({pages} {'page' if pages == 1 else 'pages'}, {len(data) // 1024} KB).")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subparser per subcommand, each naming its function."""
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Change Tracker: manage the database behind the app.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    migrate = commands.add_parser(
        "migrate",
        help="upgrade the database to the newest schema",
        description="Upgrade DATABASE_URL's database to the newest schema (Alembic head).",
    )
    migrate.set_defaults(run=migrate_command)

    seed = commands.add_parser(
        "demo",
        help="load the demo portfolio (does nothing when it is already there)",
        description=(
            "Migrate, then load a realistic demo portfolio dated relative to today: three "
            "organisations, five programmes, their people, work and numbers, and demo users."
        ),
    )
    seed.add_argument(
        "--reset",
        action="store_true",
        help=(
            "first delete EVERY row of EVERY table (all programmes, users and the audit trail), "
            "then load the demo afresh"
        ),
    )
    seed.set_defaults(run=demo_command)

    board = commands.add_parser(
        "pack",
        help="write a board pack (PDF) for a programme, or a user's portfolio",
        description=(
            "Write a board pack as a PDF: for one programme (by its code), or with --portfolio "
            "for every programme the user named by --as may see."
        ),
    )
    board.add_argument("programme", nargs="?", metavar="PROGRAMME", help="the programme's code")
    board.add_argument(
        "--portfolio", action="store_true", help="the portfolio pack instead (needs --as)"
    )
    board.add_argument(
        "--as",
        dest="email",
        metavar="EMAIL",
        help="the user the pack is for: their name goes on it and their access is checked",
    )
    board.add_argument(
        "--out",
        metavar="FILE",
        help="where to write it (default: CODE-board-pack-DATE.pdf in the current folder)",
    )
    board.set_defaults(run=pack_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `tracker` command with `argv` (default: sys.argv[1:]); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        # argparse has already printed the usage or the help.
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    command: Command = args.run
    try:
        return command(args)
    except DomainError as error:
        where = f"{error.field}: " if error.field else ""
        print(f"tracker: {where}{error.reason}", file=sys.stderr)
        return EXIT_REFUSED
    except sa.exc.OperationalError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else str(error)
        print(f"tracker: the database could not be used: {reason}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
