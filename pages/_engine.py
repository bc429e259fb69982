"""The engine every page and the sign-in check use, made once per process, and the data version
the page caches key on. Apart from pages/_common.py so the sign-in check can use it without a
cycle (pages/_common.py asks pages/_signin.py who is signed in)."""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy.engine import Engine

from tracker import db


def demo_mode() -> bool:
    """Demo mode (set by the README's start command) lists the demo accounts at sign-in."""
    return os.environ.get("TRACKER_DEMO", "").strip().lower() in {"1", "true", "yes"}


def get_engine() -> Engine:
    """The engine for DATABASE_URL, made once per process and URL."""
    return _engine(db.database_url())


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    # Shared by all users: an engine holds no per-user state. The schema is upgraded to the
    # newest migration the first time it is made, so the app upgrades on start.
    engine = db.make_engine(url)
    db.migrate(engine)
    return engine


def data_version() -> int:
    """Grows with every committed change in any process: cached loaders key on it."""
    with db.read_session(get_engine()) as session:
        return db.data_version(session)
