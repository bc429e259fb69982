"""The installation's settings as stored (tracker/services/settings.py writes them); what a
value means is decided by the code that owns the setting (the retention period, the image
hosts)."""

from __future__ import annotations

from sqlmodel import Session

from tracker.models import Setting


def setting_value(session: Session, key: str) -> str | None:
    """The stored value, or None while nobody has set one."""
    setting = session.get(Setting, key)
    return None if setting is None else setting.value
