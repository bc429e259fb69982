"""Settings the organisation running the tracker chooses, kept in the database so every process
sees the same value (e.g. how long stakeholder data is kept after a programme closes)."""

from sqlmodel import Field, SQLModel

from tracker.models.base import Versioned, checks_for


# One named setting; its value is text, parsed by the code that owns the setting.
class SettingBase(SQLModel):
    key: str = Field(primary_key=True, min_length=2, max_length=60)
    value: str = Field(max_length=200)


class Setting(SettingBase, Versioned, table=True):
    __tablename__ = "setting"
    __table_args__ = checks_for(SettingBase)
