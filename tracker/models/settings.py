"""Settings the organisation running the tracker chooses, kept in the database so every process
sees the same value (e.g. how long stakeholder data is kept after a programme closes)."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.models.base import Versioned, checks_for


# One named setting; its value is text, parsed by the code that owns the setting.
class SettingBase(SQLModel):
    key: str = Field(primary_key=True, min_length=2, max_length=60)
    value: str = Field(max_length=200)


class Setting(SettingBase, Versioned, table=True):
    __tablename__ = "setting"
    __table_args__ = checks_for(SettingBase)


# The data version: one row whose number every committed change raises, in commit order (the
# counter's row lock orders the writers), so any process can tell whether what it cached is
# still current. See db.data_version; it is raised by db.write_session, never by hand.
class DataVersion(SQLModel, table=True):
    __tablename__ = "data_version"
    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=sa.BigInteger)
