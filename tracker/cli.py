"""The `tracker` command: a thin shell over the same functions the app uses.

Each subcommand is one function that takes the parsed arguments and returns an exit code; to add
one, write the function and register it in `build_parser`. The database is DATABASE_URL's (or
the SQLite file data/tracker.db).

Exit codes: 0 done, 1 refused (a domain error, or the database could not be used), 2 usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker import access, clock, db, faults, permissions, read
from tracker.errors import DomainError, NotFoundError
from tracker.models import ImportKind, Role
from tracker.models.organisation import OrganisationCreate, StaffGroupCreate, UserCreate, UserUpdate
from tracker.seed import demo
from tracker.services import records

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
        print("In demo mode the sign-in screen lists these accounts: one click signs in as each.")
        for user in demo.DEMO_USERS:
            print(f"  {user.email:<28} {user.role.value:<11} {user.description}")
    return EXIT_OK


def generate_command(args: argparse.Namespace) -> int:
    """Migrate, then fill the database with generated data of the size asked for (after wiping
    everything, with --reset): a bar per table on standard error as it fills, then the rows per
    table, the seconds taken and whom to sign in as."""
    from tracker.seed import generate

    with _engine() as engine:
        db.migrate(engine)
        started = time.perf_counter()
        counts = generate.generate(
            engine,
            args.size,
            seed=args.seed,
            reset=args.reset,
            progress=generate.TextProgress(sys.stderr),
        )
        seconds = time.perf_counter() - started
    print(generate.describe(counts, size=args.size, seed=args.seed, seconds=seconds))
    print("Sign in as (single sign-on; no local passwords are set):")
    for user in generate.generated_users(counts["organisation"]):
        print(f"  {user.email:<32} {user.description}")
    return EXIT_OK


def pack_command(args: argparse.Namespace) -> int:
    """Write a programme's board pack (or, with --portfolio, a user's portfolio pack) as a PDF
    and say where it went and how many pages it has."""
    from tracker.io import packs  # the PDF libraries load only when a pack is asked for

    if bool(args.programme) == bool(args.portfolio):
        print("tracker pack: name a programme code, or use --portfolio --as EMAIL", file=sys.stderr)
        return EXIT_USAGE
    if args.portfolio and not args.email:
        print("tracker pack: --portfolio needs --as EMAIL (whose programmes)", file=sys.stderr)
        return EXIT_USAGE
    today = clock.today()
    with _engine() as engine, db.read_session(engine) as session:
        viewer = _viewer(session, args.email) if args.email else None
        if args.portfolio:
            assert viewer is not None
            data = packs.portfolio_pack(session=session, viewer=viewer, today=today)
            name = f"portfolio-board-pack-{today.isoformat()}.pdf"
        else:
            code = args.programme.strip().upper()
            programme_id = read.programme.programme_id_with_code(session=session, code=code)
            if viewer is not None:
                permissions.require_programme(
                    session, viewer, permissions.Action.programme_read, programme_id
                )
            # Without --as the pack is the installation's own (whoever runs the command on the
            # server can read the database anyway).
            data = packs.programme_pack(
                session=session,
                programme_id=programme_id,
                today=today,
                viewer=viewer or access.system_viewer("cli"),
            )
            name = f"{code}-board-pack-{today.isoformat()}.pdf"
    out = Path(args.out) if args.out else Path.cwd() / name
    try:
        out.write_bytes(data)
    except OSError as error:
        print(f"tracker pack: could not write {out}: {error.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    pages = packs.page_count(data)
    print(f"Wrote {out} ({pages} {'page' if pages == 1 else 'pages'}, {len(data) // 1024} KB).")
    return EXIT_OK


class _Refused(Exception):
    """A command refused before it changed anything; the message is the whole line to print."""


@contextmanager
def _reading(command: str, text_file: object) -> Iterator[None]:
    """A file that cannot be read (or a text file, `text_file`, that is not UTF-8) refuses
    `command` with a line saying which."""
    try:
        yield
    except OSError as error:
        message = f"could not read {error.filename}: {error.strerror}"
        raise _Refused(f"tracker {command}: {message}") from None
    except UnicodeDecodeError:
        raise _Refused(f"tracker {command}: {text_file} is not UTF-8 text") from None


def _viewer(session: Session, email: str) -> access.Viewer:
    """The active user named by --as, as they would be signed in to the app."""
    viewer = access.load_viewer(session, email=email)
    if viewer is None:
        raise NotFoundError("as", f"no active user has the e-mail {email}")
    return viewer


def export_command(args: argparse.Namespace) -> int:
    """Export one programme as the user named by --as: CSV files (one per record type) into a
    folder, an XLSX workbook, or the programme exchange file. Stakeholder data (personal data)
    is included only for a manager or administrator of the programme."""
    from tracker.io import exchange, exports

    if args.format == "exchange" and args.no_personal_data:
        print(
            "tracker export: the exchange file always holds the stakeholders; "
            "--no-personal-data works with --format csv or xlsx",
            file=sys.stderr,
        )
        return EXIT_USAGE
    code = args.programme.strip().upper()
    stem = f"{code}-{clock.today().isoformat()}"
    with _engine() as engine, db.read_session(engine) as session:
        viewer = _viewer(session, args.email)
        programme_id = read.programme.programme_id_with_code(session=session, code=code)
        personal = viewer.can_manage and not args.no_personal_data
        if args.format == "exchange":
            document = exchange.export_programme(
                session=session, viewer=viewer, programme_id=programme_id
            )
            files = {f"{stem}-exchange.json": exchange.to_json(document).encode("utf-8")}
        elif args.format == "xlsx":
            data = exports.export_xlsx(
                session=session,
                viewer=viewer,
                programme_ids=[programme_id],
                personal_data=personal,
            )
            files = {f"{stem}.xlsx": data}
        else:
            files = exports.export_csv_files(
                session=session,
                viewer=viewer,
                programme_ids=[programme_id],
                personal_data=personal,
            )
    if args.format == "csv":
        folder = Path(args.out) if args.out else Path.cwd() / f"{stem}-csv"
        targets = {folder / name: data for name, data in files.items()}
    else:
        ((name, data),) = files.items()
        out = Path(args.out) if args.out else Path.cwd() / name
        targets = {out / name if out.is_dir() else out: data}
    try:
        for target, data in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    except OSError as error:
        where = error.filename or next(iter(targets))
        print(f"tracker export: could not write {where}: {error.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    if args.format == "csv":
        print(f"Wrote {len(targets)} CSV files to {folder}: {', '.join(files)}.")
    else:
        ((target, data),) = targets.items()
        print(f"Wrote {target} ({max(1, len(data) // 1024)} KB).")
    if args.format != "exchange" and not personal:
        print(
            "Left out the stakeholders, their assessments, engagements, influence links and "
            "whom milestones depend on (personal data: for managers and administrators of "
            "the programme)."
        )
    return EXIT_OK


def exchange_import_command(args: argparse.Namespace) -> int:
    """Create a programme from a programme exchange file, as the user named by --as."""
    from tracker.io import exchange

    path = Path(args.file)
    with _reading("exchange-import", path):
        text = path.read_text(encoding="utf-8-sig")
    with _engine() as engine:
        with db.read_session(engine) as session:
            viewer = _viewer(session, args.email)
        try:
            with db.write_session(engine, actor=viewer.email) as session:
                programme = exchange.import_programme(session=session, viewer=viewer, document=text)
                code, title = programme.code, programme.title
        except DomainError as error:
            # The reason names the place in the file; nothing was written.
            print(f"tracker exchange-import: {error.reason} Nothing was imported.", file=sys.stderr)
            return EXIT_REFUSED
    print(f"Imported {code} ({title}) from {path}.")
    return EXIT_OK


def import_command(args: argparse.Namespace) -> int:
    """Import a spreadsheet (CSV or XLSX) of programmes, milestones, stakeholders, assessments or
    metric readings as the manager named by --as: print the mapping used and every problem, then
    write every row or none (none with --dry-run)."""
    from tracker.io import imports, reading

    kind = ImportKind(args.kind)
    if kind is not ImportKind.programmes and not args.programme:
        print(f"tracker import: importing {kind.value} needs --programme CODE", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.file)
    with _reading("import", args.mapping):
        reading.check_size(path.stat().st_size, path.name)
        data = path.read_bytes()
        written = Path(args.mapping).read_text(encoding="utf-8-sig") if args.mapping else None
    with _engine() as engine:
        with db.read_session(engine) as session:
            viewer = _viewer(session, args.email)
            programme_id = None
            if args.programme:
                code = args.programme.strip().upper()
                programme_id = read.programme.programme_id_with_code(session=session, code=code)
            table = reading.read_table(data, path.name, header_hints=reading.header_hints(kind))
            guessed = reading.guess_mapping(kind, table.headers)
            if written is not None:
                # The file decides every field it names (null: not imported); others are guessed.
                mapping = guessed | reading.mapping_from_json(written, kind=kind)
                source = f"from {args.mapping}"
            else:
                saved = None
                organisation_id = read.imports.mapping_organisation(
                    session=session, viewer=viewer, programme_id=programme_id
                )
                if organisation_id is not None:
                    saved = imports.saved_mapping(
                        session=session, organisation_id=organisation_id, kind=kind
                    )
                mapping = reading.guess_mapping(kind, table.headers, preferred=saved)
                source = "saved for the organisation" if saved else "guessed from the headers"
            # What the preview checked is exactly what is written below.
            request: dict[str, Any] = {"kind": kind, "table": table, "mapping": mapping}
            request["programme_id"] = programme_id
            checked = imports.preview(session=session, viewer=viewer, **request)
        print(table.describe())
        print(f"Columns ({source}):")
        for spec in reading.fields_for(kind):
            column = mapping.get(spec.key)
            print(f"  {spec.label:<22} <- {column if column else '(not imported)'}")
        for title, problems in (("Errors", checked.errors), ("Warnings", checked.warnings)):
            if problems:
                print(f"{title}:")
                for problem in problems:
                    print(f"  {problem.describe()}")
        if checked.errors:
            count = len(checked.errors)
            print(
                f"tracker import: refused: {count} {'error' if count == 1 else 'errors'} to fix; "
                "nothing was imported.",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        if args.dry_run:
            print(f"Dry run: {checked.describe()}. Nothing was written.")
            return EXIT_OK
        with db.write_session(engine, actor=viewer.email) as session:
            result = imports.commit_import(session=session, viewer=viewer, **request)
    print(result.describe())
    return EXIT_OK


def backup_command(args: argparse.Namespace) -> int:
    """Back up the whole database to a new file (default: data/backups/tracker-DATE-TIME.db, or
    .dump on PostgreSQL), verify the copy, and report what it holds."""
    from tracker.io import backup as backups

    with _engine() as engine:
        out = Path(args.out) if args.out else backups.default_backup_path(engine=engine)
        try:
            report = backups.backup(engine=engine, destination=out)
        except OSError as error:
            print(f"tracker backup: could not write {out}: {error.strerror}", file=sys.stderr)
            return EXIT_REFUSED
    print(report.describe())
    return EXIT_OK


def _confirmed(command: str, what: str, *, unasked: str, ask: str) -> bool:
    """Whether the person at the terminal, told `what`, typed yes when asked to `ask`. Away
    from a terminal nobody can answer: it says how to `unasked` without being asked (--yes)."""
    if not sys.stdin.isatty():
        print(f"tracker {command}: {what}", file=sys.stderr)
        print(f"Not run: add --yes to {unasked} without being asked.", file=sys.stderr)
        return False
    print(what)
    try:
        answer = input(f"Type yes to {ask}: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        print(f"tracker {command}: Nothing was changed.", file=sys.stderr)
        return False
    return True


def restore_command(args: argparse.Namespace) -> int:
    """Replace the whole database with a backup, after checking the file. Without --yes it asks
    first at a terminal, and elsewhere refuses, saying what would be replaced."""
    from tracker.io import backup as backups

    source = Path(args.file)
    with _engine() as engine:
        info = backups.check_backup(engine=engine, source=source)
        if not args.yes:
            current = backups.table_counts(engine=engine)
            rows = sum(current.values())
            what = (
                f"Restoring {info.describe()} would replace everything in {_where(engine)} "
                f"({rows:,} {'row' if rows == 1 else 'rows'} in {len(current)} tables now, "
                "the audit trail included)."
            )
            if not _confirmed("restore", what, unasked="replace the database", ask="replace it"):
                return EXIT_REFUSED
        report = backups.restore(engine=engine, source=source)
    print(report.describe())
    return EXIT_OK


def erase_command(args: argparse.Namespace) -> int:
    """Erase a stakeholder (right to erasure) as the manager named by --as: anonymise them, scrub
    them from programme text and every audit copy, then compact the database so no old copy is
    left in its files. Without --yes it asks first at a terminal, and elsewhere refuses."""
    from tracker import privacy

    with _engine() as engine:
        with db.read_session(engine) as session:
            viewer = _viewer(session, args.email)
            # Asked with the erasure's own permission, so whoever the erasure would refuse is
            # refused before being asked, and never shown the stakeholder's name.
            stakeholder = read.people.stakeholder_named(
                session=session,
                viewer=viewer,
                stakeholder_id=args.stakeholder_id,
                action=permissions.Action.stakeholder_erase,
            )
            who = f"stakeholder {args.stakeholder_id}"
            if stakeholder is not None:
                who = f"{who} ({stakeholder.name}, programme {stakeholder.programme_code})"
        if not args.yes:
            what = (
                f"Erasing {who} replaces their name, clears their role and notes, and removes "
                "them from every engagement, note and audit copy. It cannot be undone."
            )
            if not _confirmed("erase", what, unasked="erase", ask="erase them"):
                return EXIT_REFUSED
        report = privacy.erase(engine, viewer=viewer, stakeholder_id=args.stakeholder_id)
    print(report.describe())
    return EXIT_OK


def sar_command(args: argparse.Namespace) -> int:
    """Write everything held about one stakeholder (subject access request) as JSON, or CSV when
    --out ends in .csv, as the manager named by --as. The file is readable by its owner only."""
    import os

    from tracker.io import subject_access

    with _engine() as engine:
        with db.read_session(engine) as session:
            viewer = _viewer(session, args.email)
            export = read.privacy.subject_access_export(
                session=session, viewer=viewer, stakeholder_id=args.stakeholder_id
            )
        out = Path(args.out) if args.out else Path.cwd() / subject_access.export_filename(export)
        as_csv = out.suffix.lower() == ".csv"
        # Made through the same path as the page's download, so the export is in the audit
        # trail (who, which stakeholder, which format) before the file exists.
        made = subject_access.subject_access_file(
            engine,
            viewer=viewer,
            stakeholder_id=args.stakeholder_id,
            file_format="csv" if as_csv else "json",
        )
    data = made.data
    try:
        handle = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(data)
    except OSError as error:
        print(f"tracker sar: could not write {out}: {error.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    counts = ", ".join(
        f"{len(export[key])} {label}{'' if len(export[key]) == 1 else 's'}"
        for key, label in (
            ("assessments", "assessment"),
            ("engagements", "engagement"),
            ("influence_links", "influence link"),
            ("milestones_depending_on_them", "milestone"),
            ("audit_events", "audit event"),
        )
    )
    print(f"Wrote {out} ({'CSV' if as_csv else 'JSON'}: {counts}). It holds personal data.")
    return EXIT_OK


def retention_command(args: argparse.Namespace) -> int:
    """Anonymise the stakeholders of programmes closed longer ago than the retention period (the
    stored setting, or --months), as 'system'; --dry-run only reports."""
    from tracker import privacy

    with _engine() as engine:
        report = privacy.apply_retention(
            engine, today=clock.today(), months=args.months, dry_run=args.dry_run
        )
    print(report.describe())
    if report.dry_run and report.stakeholder_ids:
        print(f"  stakeholders: {', '.join(str(n) for n in report.stakeholder_ids)}")
    for erasure in report.erasures:
        print(f"  {erasure.describe()}")
    return EXIT_OK


# --- User accounts -------------------------------------------------------------------------------


def _printable(text: str) -> str:
    """Text from the database, safe to print at a terminal (which would act on escape
    sequences): control characters show as '?'."""
    return "".join(char if char.isprintable() else "?" for char in text)


def _staff_group_named(
    session: Session, name: str, organisations: Sequence[read.admin.OrganisationName]
) -> int:
    """The id of the staff group called `name` (in any case) in one of `organisations`. When
    several of them have a group of that name, `SHORT_NAME:name` says whose."""
    prefix, colon, rest = name.partition(":")
    chosen = [o for o in organisations if colon and o.short_name.upper() == prefix.strip().upper()]
    if chosen:
        organisations, name = chosen, rest
    name = name.strip()
    short_names = {o.id: o.short_name for o in organisations}
    groups = read.admin.staff_groups_called(
        session=session, name=name, organisation_ids=short_names
    )
    if not groups:
        searched = ", ".join(sorted(short_names.values()))
        raise NotFoundError("staff-group", f"no staff group called {name} in {searched}")
    if len(groups) > 1:
        owners = sorted(short_names[group.organisation_id] for group in groups)
        raise DomainError(
            "staff-group",
            f"{', '.join(owners)} each have a staff group called {name}: "
            f"write it as {owners[0]}:{name}",
        )
    return groups[0].id


def _in_option_words(error: DomainError) -> DomainError:
    """A refusal of the users service (the rules the Users admin page applies), in the words of
    this command's options."""
    if error.field != "staff_group_id":
        return error
    hint = ": give --staff-group" if error.reason == "a staff user needs a staff group" else ""
    return type(error)("staff-group", error.reason + hint)


def _password_from_stdin() -> str:
    """A new password from standard input, never from the command line (where other users and
    the shell history could see it): typed twice, unseen, at a terminal; otherwise the first
    line, without its line ending."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password for the local account (at least 12 characters): ")
        if getpass.getpass("The same password again: ") != password:
            raise DomainError("password", "the two passwords typed differ; nothing was changed")
        return password
    return sys.stdin.readline().rstrip("\r\n")


# The users and organisations commands act for the installation: whoever can run them on the
# server can read its database anyway. Their changes are audited as --as (default "cli").
_INSTALLATION = access.system_viewer("cli")


def organisations_add_command(args: argparse.Namespace) -> int:
    """Add an organisation (and any staff groups named): on a new installation, the first step
    before the first administrator can be added with `tracker users add`."""
    from tracker.services import organisations

    with _engine() as engine, db.write_session(engine, actor=args.actor) as session:
        organisation = organisations.create_organisation(
            session=session,
            viewer=_INSTALLATION,
            data=records.validated(
                OrganisationCreate,
                {
                    "name": args.name.strip(),
                    "short_name": args.short_name.strip(),
                },
            ),
        )
        for group in args.staff_group or []:
            organisations.create_staff_group(
                session=session,
                viewer=_INSTALLATION,
                data=records.validated(
                    StaffGroupCreate, {"organisation_id": organisation.id, "name": group.strip()}
                ),
            )
    groups = len(args.staff_group or [])
    print(
        f"Added {_printable(organisation.name)} ({_printable(organisation.short_name)})"
        + (f" with {groups} staff group{'s' if groups != 1 else ''}." if groups else ".")
    )
    return EXIT_OK


def organisations_list_command(args: argparse.Namespace) -> int:
    """Every organisation: short name, name, and how many users and programmes it has."""
    with _engine() as engine, db.read_session(engine) as session:
        found = read.admin.installation_organisations(session=session)
    if not found:
        print("No organisations yet: add one with `tracker organisations add`.")
    for organisation in found:
        print(
            f"{_printable(organisation.short_name):<12} {_printable(organisation.name):<40} "
            f"{organisation.users} users, {organisation.programmes} programmes"
        )
    return EXIT_OK


def users_add_command(args: argparse.Namespace) -> int:
    """Add a user to one or more organisations (by short name). With --password-stdin they get
    a local password read from standard input; without, they sign in by single sign-on only."""
    from tracker.services import organisations

    password = _password_from_stdin() if args.password_stdin else None
    email = args.email.strip().lower()
    role = Role(args.role)
    with _engine() as engine, db.write_session(engine, actor=args.actor) as session:
        chosen = read.admin.organisations_with_short_names(session=session, short_names=args.org)
        group_id = None
        if args.staff_group:
            group_id = _staff_group_named(session, args.staff_group, chosen)
        values = {"email": email, "name": args.name.strip(), "role": role}
        try:
            user = organisations.add_user(
                session=session,
                viewer=_INSTALLATION,
                data=records.validated(UserCreate, values | {"staff_group_id": group_id}),
                organisation_ids=[o.id for o in chosen],
            )
        except DomainError as error:
            raise _in_option_words(error) from None
        assert user.id is not None
        # An empty password read from standard input is refused, not taken as "none".
        if password is not None:
            organisations.set_password(
                session=session, viewer=_INSTALLATION, user_id=user.id, password=password
            )
        where = ", ".join(o.short_name for o in chosen)
    how = (
        "a local password"
        if password is not None
        else "no local password (they sign in by single sign-on)"
    )
    print(f"Added {email} ({_printable(args.name.strip())}, {role.value}) to {where}, with {how}.")
    return EXIT_OK


def users_list_command(args: argparse.Namespace) -> int:
    """Every user: e-mail, name, role, organisations, whether active, and whether they have a
    local password (never the hash)."""
    with _engine() as engine, db.read_session(engine) as session:
        users = read.admin.user_accounts(session=session)
    table = [
        (
            _printable(user.email),
            _printable(user.name),
            user.role.value,
            ", ".join(o.short_name for o in user.organisations),
            "yes" if user.active else "no",
            "yes" if user.local_password else "no",
        )
        for user in users
    ]
    if not table:
        print("No users yet: add one with 'tracker users add'.")
        return EXIT_OK
    header = ("E-MAIL", "NAME", "ROLE", "ORGANISATIONS", "ACTIVE", "LOCAL PASSWORD")
    widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header))]
    for row in (header, *table):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(f"{len(table)} {'user' if len(table) == 1 else 'users'}.")
    return EXIT_OK


def users_set_role_command(args: argparse.Namespace) -> int:
    """Change a user's role (and, with --staff-group, their staff group). It applies from their
    next page load: the app reads the user afresh every time."""
    from tracker.services import organisations

    role = Role(args.role)
    with _engine() as engine, db.write_session(engine, actor=args.actor) as session:
        user = read.admin.user_account(session=session, email=args.email)
        changes: dict[str, object] = {}
        if user.role is not role:
            changes["role"] = role
        if args.staff_group:
            group_id = _staff_group_named(session, args.staff_group, user.organisations)
            if group_id != user.staff_group_id:
                changes["staff_group_id"] = group_id
        email = _printable(user.email)
        if not changes:
            print(f"{email} is already {role.value}: nothing changed.")
            return EXIT_OK
        before = user.role.value
        try:
            organisations.change_user(
                session=session,
                viewer=_INSTALLATION,
                user_id=user.id,
                data=records.validated(UserUpdate, {**changes, "version": user.version}),
            )
        except DomainError as error:
            raise _in_option_words(error) from None
    if "role" in changes:
        print(
            f"Changed {email} from {before} to {role.value}; it applies from their next page load."
        )
    else:
        print(f"Changed the staff group of {email}; it applies from their next page load.")
    return EXIT_OK


def _set_active(args: argparse.Namespace, *, active: bool) -> int:
    from tracker.services import organisations

    state = "active" if active else "deactivated"
    with _engine() as engine, db.write_session(engine, actor=args.actor) as session:
        user = read.admin.user_account(session=session, email=args.email)
        email = _printable(user.email)
        if user.active is active:
            print(f"{email} is already {state}: nothing changed.")
            return EXIT_OK
        organisations.change_user(
            session=session,
            viewer=_INSTALLATION,
            user_id=user.id,
            data=records.validated(UserUpdate, {"version": user.version, "active": active}),
        )
    if active:
        print(f"Reactivated {email}: they can sign in again.")
    else:
        print(
            f"Deactivated {email}: they can no longer sign in, and a session they have open "
            "ends at its next page load."
        )
    return EXIT_OK


def users_deactivate_command(args: argparse.Namespace) -> int:
    """Stop a user signing in (their records and audit history stay)."""
    return _set_active(args, active=False)


def users_reactivate_command(args: argparse.Namespace) -> int:
    """Let a deactivated user sign in again."""
    return _set_active(args, active=True)


def _command(
    group: Any,
    run: Callable[[argparse.Namespace], int],
    name: str,
    *,
    help: str,
    description: str,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.ArgumentParser:
    """A sub-command of `group` that runs `run`."""
    command: argparse.ArgumentParser = group.add_parser(
        name, parents=list(parents), help=help, description=description
    )
    command.set_defaults(run=run)
    return command


def _as_user(command: argparse.ArgumentParser, help: str) -> None:
    """The --as EMAIL option of a command run as one of the app's users."""
    command.add_argument("--as", dest="email", required=True, metavar="EMAIL", help=help)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subparser per subcommand, each naming its function."""
    parser = argparse.ArgumentParser(
        prog="tracker",
        description="Change Tracker: manage the database behind the app.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    _command(
        commands,
        migrate_command,
        "migrate",
        help="upgrade the database to the newest schema",
        description="Upgrade DATABASE_URL's database to the newest schema (Alembic head).",
    )

    seed = _command(
        commands,
        demo_command,
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

    generated = _command(
        commands,
        generate_command,
        "generate",
        help="fill an empty database with generated data at scale (S, M or L)",
        description=(
            "Migrate, then fill an empty database with a generated portfolio, dated relative "
            "to today and the same for the same size and seed: S has 2 programmes, 200 "
            "milestones, 200 stakeholders, 2,000 assessments and 5,000 metric readings; M ten "
            "times that; L a hundred times (200 programmes, 500,000 readings). Around them: "
            "organisations (2, 5 or 10), staff groups, stage records, engagements, barriers, "
            "metrics, narratives. Users, all signing in by single sign-on (no local "
            "passwords): admin@generated.example (administrator) and leader@generated.example "
            "(leadership) for every organisation, and for organisation N "
            "managerN@generated.example, leadershipN@generated.example and "
            "staffN@generated.example. Refused when the database already holds a programme, "
            "unless --reset."
        ),
    )
    generated.add_argument(
        "--size",
        required=True,
        type=str.upper,
        choices=("S", "M", "L"),
        help="S (thousands of rows), M (tens of thousands) or L (hundreds of thousands)",
    )
    generated.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="N",
        help="another number gives other data of the same shape (default: 1)",
    )
    generated.add_argument(
        "--reset",
        action="store_true",
        help=(
            "first delete EVERY row of EVERY table (all programmes, users and the audit trail), "
            "then generate"
        ),
    )

    board = _command(
        commands,
        pack_command,
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

    export = _command(
        commands,
        export_command,
        "export",
        help="export a programme: CSV files, an XLSX workbook or the programme exchange file",
        description=(
            "Export one programme (by its code) as the user named by --as: CSV files, one per "
            "record type, into a folder; an XLSX workbook with one sheet per record type; or "
            "the programme exchange file (JSON) that 'tracker exchange-import' reads. "
            "Stakeholder data is included only for a manager or administrator of the programme."
        ),
    )
    export.add_argument("programme", metavar="PROGRAMME", help="the programme's code")
    export.add_argument(
        "--format", required=True, choices=("csv", "xlsx", "exchange"), help="what to write"
    )
    _as_user(export, "whose access is checked")
    export.add_argument(
        "--out",
        metavar="FILE_OR_DIR",
        help=(
            "where to write: the folder for csv, a file (or a folder to put it in) otherwise "
            "(default: CODE-DATE-csv/, CODE-DATE.xlsx or CODE-DATE-exchange.json here)"
        ),
    )
    export.add_argument(
        "--no-personal-data",
        action="store_true",
        help="csv and xlsx only: leave out stakeholders, assessments, engagements and links",
    )

    exchange_import = _command(
        commands,
        exchange_import_command,
        "exchange-import",
        help="create a programme from a programme exchange file",
        description=(
            "Create the programme a programme exchange file (from 'tracker export --format "
            "exchange') describes, as the user named by --as: all of it, or nothing. An "
            "administrator's import creates missing organisations and staff groups."
        ),
    )
    exchange_import.add_argument("file", metavar="FILE", help="the exchange file (JSON)")
    _as_user(exchange_import, "who is importing")

    spreadsheet = _command(
        commands,
        import_command,
        "import",
        help="import a spreadsheet (CSV or XLSX) of programmes, milestones, stakeholders, ...",
        description=(
            "Import a CSV or XLSX file as the manager named by --as: every row, or nothing when "
            "any row has a problem. Rows already there (same code, title, name, or name and "
            "date) are updated, not duplicated. Prints the columns used and every problem."
        ),
    )
    spreadsheet.add_argument(
        "kind",
        metavar="KIND",
        choices=("programmes", "milestones", "stakeholders", "assessments", "readings"),
        help="programmes, milestones, stakeholders, assessments or readings",
    )
    spreadsheet.add_argument("file", metavar="FILE", help="the CSV or XLSX file")
    spreadsheet.add_argument(
        "--programme",
        metavar="CODE",
        help="the programme to import into (every kind but programmes)",
    )
    spreadsheet.add_argument(
        "--mapping",
        metavar="FILE",
        help="a JSON file naming the column for each field (default: guessed from the headers)",
    )
    spreadsheet.add_argument(
        "--dry-run", action="store_true", help="check the file and report, but write nothing"
    )
    _as_user(spreadsheet, "the manager importing")

    backup_parser = _command(
        commands,
        backup_command,
        "backup",
        help="back up the whole database to a file, and verify the copy",
        description=(
            "Back up DATABASE_URL's whole database while the app keeps running (SQLite's "
            "online backup, or pg_dump for PostgreSQL), then read the copy back: integrity, "
            "every table's row count and the schema revision must match. Backups hold personal "
            "data and are readable by their owner only."
        ),
    )
    backup_parser.add_argument(
        "--out",
        metavar="FILE",
        help=(
            "where to write it (default: data/backups/tracker-YYYYMMDD-HHMMSS.db, or .dump for "
            "PostgreSQL); an existing file is never overwritten"
        ),
    )

    restore_parser = _command(
        commands,
        restore_command,
        "restore",
        help="replace the whole database with a backup made by 'tracker backup'",
        description=(
            "Check a backup, then replace EVERYTHING in DATABASE_URL's database with it (the "
            "audit trail included), verify the row counts, and upgrade it to the newest schema "
            "if it is older. Backups that are damaged, of the other database kind, or from a "
            "newer version of Change Tracker are refused."
        ),
    )
    restore_parser.add_argument("file", metavar="FILE", help="a file made by 'tracker backup'")
    restore_parser.add_argument(
        "--yes",
        action="store_true",
        help="replace the database without asking (needed when not run at a terminal)",
    )

    erase_parser = _command(
        commands,
        erase_command,
        "erase",
        help="erase a stakeholder (right to erasure), audit copies included",
        description=(
            "Erase one stakeholder as the manager named by --as: their name becomes "
            "'Erased stakeholder N', role, notes and relationship owner are cleared, and their "
            "name, role and notes are removed from every engagement, note and audit copy; their "
            "numbers stay, so the programme's figures do not change. The audit trail records only "
            "that an erasure happened. Then the database is compacted so no copy is left."
        ),
    )
    erase_parser.add_argument("stakeholder_id", type=int, metavar="STAKEHOLDER_ID")
    _as_user(erase_parser, "the manager erasing")
    erase_parser.add_argument(
        "--yes", action="store_true", help="erase without asking (needed when not at a terminal)"
    )

    sar_parser = _command(
        commands,
        sar_command,
        "sar",
        help="export everything held about a stakeholder (subject access request)",
        description=(
            "Write everything held about one stakeholder, as the manager named by --as: their "
            "record, assessments, engagements, influence links, the milestones that depend on "
            "them, the programme's lawful basis and the audit events about them. Other people "
            "appear only as 'another stakeholder'."
        ),
    )
    sar_parser.add_argument("stakeholder_id", type=int, metavar="STAKEHOLDER_ID")
    _as_user(sar_parser, "the manager exporting")
    sar_parser.add_argument(
        "--out",
        metavar="FILE",
        help=(
            "where to write it; CSV when it ends in .csv, JSON otherwise "
            "(default: subject-access-stakeholder-ID-DATE.json here)"
        ),
    )

    retention_parser = _command(
        commands,
        retention_command,
        "retention",
        help="anonymise stakeholders of programmes closed longer than the retention period",
        description=(
            "Anonymise, as an erasure does, every stakeholder of the programmes closed more than "
            "the retention period ago (the stored setting, 24 months unless an administrator "
            "changed it). Stakeholders already anonymised are skipped, so running it again "
            "changes nothing."
        ),
    )
    retention_parser.add_argument(
        "--dry-run", action="store_true", help="report who would be anonymised; write nothing"
    )
    retention_parser.add_argument(
        "--months", type=int, metavar="N", help="this run's retention period instead of the setting"
    )

    # The users and organisations commands act for the installation, recorded as --as.
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument(
        "--as",
        dest="actor",
        default="cli",
        metavar="EMAIL",
        help="who the audit trail records as making the change (default: cli)",
    )

    organisations_parser = commands.add_parser(
        "organisations",
        help="add an organisation (the first step on a new installation), list them",
        description=(
            "Add an organisation, with any staff groups, or list them. A new installation has "
            "none: add the first, then its first administrator with `tracker users add`."
        ),
    )
    organisation_commands = organisations_parser.add_subparsers(
        title="commands", metavar="COMMAND", required=True
    )
    add_organisation = _command(
        organisation_commands,
        organisations_add_command,
        "add",
        parents=[actor],
        help="add an organisation",
        description="Add an organisation, and optionally its staff groups.",
    )
    add_organisation.add_argument("name", help='its full name, e.g. "Northmoor County Council"')
    add_organisation.add_argument(
        "--short-name", required=True, help="2 to 12 characters, e.g. NCC (used by --org)"
    )
    add_organisation.add_argument(
        "--staff-group",
        action="append",
        metavar="NAME",
        help="a staff group to add with it (repeat for several)",
    )
    _command(
        organisation_commands,
        organisations_list_command,
        "list",
        help="list every organisation",
        description="List every organisation.",
    )

    users_parser = commands.add_parser(
        "users",
        help="add and list user accounts, change their role, deactivate or reactivate them",
        description=(
            "Manage who may sign in: add a user (single sign-on, or a local password read from "
            "standard input), list every user, change a role, deactivate or reactivate. "
            "Changes are recorded in the audit trail as made by --as (default: cli)."
        ),
    )
    user_commands = users_parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    roles = [role.value for role in Role]

    add_user = _command(
        user_commands,
        users_add_command,
        "add",
        parents=[actor],
        help="add a user to one or more organisations",
        description=(
            "Add a user to one or more organisations (by short name, e.g. --org NCC). A staff "
            "user needs --staff-group. Without --password-stdin the user signs in by single "
            "sign-on only (their e-mail must match the identity provider's)."
        ),
    )
    add_user.add_argument("email", metavar="EMAIL", help="the address they sign in with")
    add_user.add_argument("--name", required=True, help="their name, as the app shows it")
    add_user.add_argument("--role", required=True, choices=roles, help=", ".join(roles))
    add_user.add_argument(
        "--org",
        required=True,
        action="append",
        metavar="SHORT_NAME",
        help="an organisation they work for (repeat for several)",
    )
    add_user.add_argument(
        "--staff-group",
        metavar="NAME",
        help="their staff group, in one of those organisations (SHORT_NAME:NAME if ambiguous)",
    )
    add_user.add_argument(
        "--password-stdin",
        action="store_true",
        help=(
            "give them a local password (at least 12 characters), read from standard input: "
            "its first line, or typed twice at a terminal"
        ),
    )

    _command(
        user_commands,
        users_list_command,
        "list",
        help="list every user",
        description=(
            "List every user: e-mail, name, role, organisations, whether active, and whether "
            "they have a local password (never the password or its hash)."
        ),
    )

    set_role = _command(
        user_commands,
        users_set_role_command,
        "set-role",
        parents=[actor],
        help="change a user's role",
        description=(
            "Change a user's role; it applies from their next page load. A staff user needs a "
            "staff group: give it with --staff-group if they have none."
        ),
    )
    set_role.add_argument("email", metavar="EMAIL")
    set_role.add_argument("role", metavar="ROLE", choices=roles, help=", ".join(roles))
    set_role.add_argument(
        "--staff-group",
        metavar="NAME",
        help="their staff group, in one of their organisations (SHORT_NAME:NAME if ambiguous)",
    )

    for run, name, words, description in (
        (
            users_deactivate_command,
            "deactivate",
            "stop a user signing in",
            "Stop a user signing in, by password or single sign-on; a session they have open "
            "ends at its next page load. Their records and history stay.",
        ),
        (
            users_reactivate_command,
            "reactivate",
            "let a deactivated user sign in again",
            "Let a deactivated user sign in again, with the role they had.",
        ),
    ):
        switch = _command(
            user_commands, run, name, parents=[actor], help=words, description=description
        )
        switch.add_argument("email", metavar="EMAIL")
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
    except _Refused as refusal:
        print(refusal, file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as error:
        where = f"{error.field}: " if error.field else ""
        print(f"tracker: {where}{error.reason}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:
        # An infrastructure fault (database down, disk full, read-only, locked): a plain sentence
        # and nothing half-written (every write is one transaction), never a traceback.
        message = faults.describe(error)
        if message is None and isinstance(error, sa.exc.OperationalError):
            detail = str(error.orig).splitlines()[0] if error.orig else str(error)
            message = f"the database could not be used: {detail}"
        if message is None:
            raise
        print(f"tracker: {message}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
