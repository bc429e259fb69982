"""Infrastructure faults in plain words: the database down or refusing the app, the disk full,
the database read-only, locked past the busy timeout, damaged. These are no fault of the person
using the app, and nothing they can fix: the app and the `tracker` command show the sentence
`describe` gives (what happened, what to do) instead of a traceback, and log the full exception
for the administrator. Anything else (a bug, a domain error) is not described: it keeps its own
handling.

Recognised on SQLite (the driver's result code) and on PostgreSQL through psycopg 3 (the
SQLSTATE, or a connection that could not be made or was lost)."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

import sqlalchemy as sa

UNREACHABLE = (
    "The database cannot be reached just now. Try again in a few minutes; if it keeps "
    "happening, tell your administrator."
)
REFUSED = (
    "The database refused the app's connection: its connection settings may be wrong. "
    "Tell your administrator."
)
DISK_FULL = (
    "The disk is full, so nothing more can be saved. Tell your administrator, who needs to "
    "free some space."
)
READ_ONLY_FILE = (
    "The database file is read-only, so nothing can be saved. Tell your administrator, who "
    "needs to make it writable again."
)
READ_ONLY = (
    "The database is read-only just now, so nothing can be saved. Try again later; if it keeps "
    "happening, tell your administrator."
)
READ_ONLY_DISK = (
    "The disk the data is kept on is read-only, so nothing can be saved. Tell your administrator."
)
BUSY = (
    "The database is busy and did not answer in time. Try again in a moment; if it keeps "
    "happening, tell your administrator."
)
SHORT_OF_RESOURCES = (
    "The database server is short of memory or connections. Try again in a few minutes; if it "
    "keeps happening, tell your administrator."
)
DISK_ERROR = "The disk the database is on reported an error. Tell your administrator."
CANNOT_OPEN = (
    "The database file cannot be opened. Tell your administrator, who needs to check that it "
    "exists and that the app may use it."
)
DAMAGED = "The database is damaged. Tell your administrator, who can restore it from a backup."


class InfrastructureFault(Exception):
    """A fault in what the app runs on, with the plain sentence to show for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CODES = {
    3: CANNOT_OPEN,  # SQLITE_PERM
    5: BUSY,  # SQLITE_BUSY: another writer held the lock past the busy timeout
    6: BUSY,  # SQLITE_LOCKED
    8: READ_ONLY_FILE,  # SQLITE_READONLY
    10: DISK_ERROR,  # SQLITE_IOERR
    11: DAMAGED,  # SQLITE_CORRUPT
    13: DISK_FULL,  # SQLITE_FULL
    14: CANNOT_OPEN,  # SQLITE_CANTOPEN
    26: DAMAGED,  # SQLITE_NOTADB
}
# The same, by message, for a driver that gives no code.
_SQLITE_MESSAGES = {
    "database or disk is full": DISK_FULL,
    "attempt to write a readonly database": READ_ONLY_FILE,
    "database is locked": BUSY,
    "database table is locked": BUSY,
    "unable to open database file": CANNOT_OPEN,
    "disk i/o error": DISK_ERROR,
    "database disk image is malformed": DAMAGED,
    "file is not a database": DAMAGED,
}
# PostgreSQL SQLSTATEs: exact codes first, then whole classes (the first two characters).
_SQLSTATES = {
    "53100": DISK_FULL,  # disk_full
    "25006": READ_ONLY,  # read_only_sql_transaction (a standby, or read-only by setting)
    "57P01": UNREACHABLE,  # admin_shutdown
    "57P02": UNREACHABLE,  # crash_shutdown
    "57P03": UNREACHABLE,  # cannot_connect_now (starting up)
    "57P04": UNREACHABLE,  # database_dropped
    "57014": BUSY,  # query_canceled (statement_timeout)
    "55P03": BUSY,  # lock_not_available (lock_timeout)
    "40P01": BUSY,  # deadlock_detected
    "40001": BUSY,  # serialization_failure
    "3D000": REFUSED,  # invalid_catalog_name: no such database
    "58030": DISK_ERROR,  # io_error
    "XX001": DAMAGED,  # data_corrupted
    "XX002": DAMAGED,  # index_corrupted
}
_SQLSTATE_CLASSES = {
    "08": UNREACHABLE,  # connection_exception
    "28": REFUSED,  # invalid_authorization_specification
    "53": SHORT_OF_RESOURCES,  # insufficient_resources
}
_OS_ERRORS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY_DISK,
}


def describe(error: BaseException) -> str | None:
    """The plain sentence for `error` when it, or an error it was raised from or while
    handling, is an infrastructure fault; None when it is not one."""
    for link in _chain(error):
        message = _describe_one(link)
        if message is not None:
            return message
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, the driver's error SQLAlchemy wrapped, and what each was raised from or while
    handling, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        link = pending.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        orig = getattr(link, "orig", None)
        for following in (orig, link.__cause__, link.__context__):
            if isinstance(following, BaseException):
                pending.append(following)


def _describe_one(error: BaseException) -> str | None:
    if isinstance(error, InfrastructureFault):
        return error.message
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return UNREACHABLE  # the connection was lost mid-way
    if isinstance(error, sa.exc.DisconnectionError):
        return UNREACHABLE
    if isinstance(error, sa.exc.TimeoutError):
        return BUSY  # every pooled connection in use for too long
    if isinstance(error, sqlite3.Error):
        return _describe_sqlite(error)
    if isinstance(error, OSError):
        return _OS_ERRORS.get(error.errno or 0)
    if type(error).__module__.split(".")[0] == "psycopg":
        return _describe_psycopg(error)
    return None


def _describe_sqlite(error: sqlite3.Error) -> str | None:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_CODES:
        return _SQLITE_CODES[code & 0xFF]
    text = str(error).strip().lower()
    return next((message for start, message in _SQLITE_MESSAGES.items() if start in text), None)


def _describe_psycopg(error: BaseException) -> str | None:
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
    # No SQLSTATE: psycopg could not connect (refused, no such host, timed out), or the server
    # turned the connection away before a session began (wrong password, no such database).
    import psycopg  # already loaded: `error` is one of its

    if not isinstance(error, psycopg.OperationalError):
        return None
    text = str(error).lower()
    if "authentication failed" in text or ("database" in text and "does not exist" in text):
        return REFUSED
    return UNREACHABLE
