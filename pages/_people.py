"""Glue the two people pages share (Manage → Stakeholders and Manage → Engagements): saving as
the viewer with their right to the programme's people checked again, and forms that stand on
the version they were built from."""

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import streamlit as st
from sqlmodel import Session

from pages import _manage as manage
from tracker import permissions
from tracker.access import Viewer
from tracker.permissions import Action

T = TypeVar("T")


def write(
    viewer: Viewer, programme_id: int, work: Callable[[Session], T], *, labels: dict[str, str]
) -> T | bool | None:
    """Run `work` as the viewer in one transaction, re-checking first that they may change this
    programme's people: its result (True when it returns nothing), or None when refused (the
    reason is shown here)."""

    def checked(session: Session) -> T | bool:
        permissions.require_programme(session, viewer, Action.stakeholder_edit, programme_id)
        result = work(session)
        return True if result is None else result

    return manage.save(viewer, checked, labels=labels)


def done(message: str, record_key: str, widget_keys: list[str]) -> NoReturn:
    """After a save: drop the draft so the form shows the database, and say what changed."""
    manage.forget(record_key, widget_keys)
    manage.flash(message)
    st.rerun()


def stand_on(record_key: str, widgets: dict[str, Any], version: int) -> int:
    """Seed a form's widgets; while they hold what the database holds there is no draft to
    protect, so the form stands on the current version (our own other saves move it on)."""
    for key, value in widgets.items():
        manage.seed(key, value)
    if all(st.session_state[key] == value for key, value in widgets.items()):
        manage.saved(record_key, version)
    return manage.built_from(record_key, version)
