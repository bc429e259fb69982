"""Installation settings: one text value per key in the `setting` table, written through the
audited write path (tracker/read/settings.py reads them). The callers (the retention period,
the image hosts) decide who may change them (Action.installation_administer) and what a value
means."""

from __future__ import annotations

from sqlmodel import Session

from tracker.models import Setting, SettingBase
from tracker.services import records


def store_setting(session: Session, key: str, value: str) -> None:
    """Store `value` under `key` (a value never set stays unset while `value` is empty); no
    write, and no audit event, when it is already the value."""
    setting = session.get(Setting, key)
    if setting is None:
        if value:
            records.create(session, Setting, SettingBase, {"key": key, "value": value})
    elif setting.value != value:
        records.update(
            session,
            Setting,
            SettingBase,
            key,
            expected_version=setting.version,
            changes={"value": value},
        )
