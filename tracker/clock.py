"""Today and now, in one place, so tests and the demo can fix the clock."""

from __future__ import annotations

import datetime as dt
import os


def today() -> dt.date:
    """Today's date, or TRACKER_TODAY (ISO date) when set, e.g. to replay a fixed day."""
    fixed = os.environ.get("TRACKER_TODAY")
    return dt.date.fromisoformat(fixed) if fixed else dt.date.today()


def now() -> dt.datetime:
    """The current time in UTC (timezone-aware, as SQLModel requires)."""
    return dt.datetime.now(dt.UTC)
