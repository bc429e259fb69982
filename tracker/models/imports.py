"""What the spreadsheet import remembers: each organisation's column mapping per kind of file,
so the next upload of the same spreadsheet needs no re-matching."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tracker.models.base import Versioned, checks_for, enum_type
from tracker.vocabulary import ImportKind


# Which spreadsheet column feeds which field, saved for one organisation and kind of import.
class ImportMappingBase(SQLModel):
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    kind: ImportKind = Field(sa_type=enum_type(ImportKind))
    # JSON object: field key -> column header (or null for a field left unmapped).
    mapping: str = Field(min_length=2, max_length=8000, sa_type=sa.Text)
    updated_by: str = Field(max_length=254)


class ImportMapping(ImportMappingBase, Versioned, table=True):
    __tablename__ = "import_mapping"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "kind", name="uq_import_mapping_organisation_kind"),
        *checks_for(ImportMappingBase),
    )
    id: int | None = Field(default=None, primary_key=True)
