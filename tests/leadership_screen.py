"""Shared by the leadership pages' tests (tests/test_page_portfolio.py, test_page_programme.py):
who signs in, the portfolio as the database reads it, and the text a page shows."""

from __future__ import annotations

from typing import Any

from tracker import clock, db, read
from tracker.access import load_viewer
from tracker.models import Role
from tracker.seed.demo import DEMO_USERS

LEADER = next(u.email for u in DEMO_USERS if u.role is Role.leadership)
MANAGER = next(u.email for u in DEMO_USERS if u.role is Role.manager)


def dashboard(url: str, email: str) -> Any:
    """read.portfolio.portfolio_dashboard for `email` on the database at `url`, today."""
    engine = db.make_engine(url)
    with db.read_session(engine) as session:
        viewer = load_viewer(session, email=email)
        assert viewer is not None
        return read.portfolio.portfolio_dashboard(
            session=session, viewer=viewer, today=clock.today()
        )


def texts(at: Any) -> str:
    """Every markdown, caption, subheader, header and table of an AppTest run, as one text."""
    parts = [e.value for e in (*at.markdown, *at.caption, *at.subheader, *at.header)]
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(str(p) for p in parts)
