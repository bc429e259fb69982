"""The read side: every SELECT a screen, a pack or the command line needs.

One module per screen family (`portfolio`, `programme`, `staff`, `admin`, `manage`, `people`)
and the shared SQL building blocks beside them (`sql`). Callers name the module they read from:
``read.programme.forecast(...)``. Nothing here writes.
"""

from tracker.read import (
    admin,
    exchange,
    exports,
    imports,
    manage,
    people,
    portfolio,
    privacy,
    programme,
    settings,
    sql,
    staff,
)

__all__ = [
    "admin",
    "exchange",
    "exports",
    "imports",
    "manage",
    "people",
    "portfolio",
    "privacy",
    "programme",
    "settings",
    "sql",
    "staff",
]
