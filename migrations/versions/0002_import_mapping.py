"""import mapping: saved spreadsheet column mappings per organisation and kind of import

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 17:43:29.833840

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_mapping',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('programmes', 'milestones', 'stakeholders', 'assessments', 'readings', name='importkind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(mapping) >= 2 AND length(mapping) <= 8000', name=op.f('ck_import_mapping_mapping_length')),
    sa.CheckConstraint('length(updated_by) <= 254', name=op.f('ck_import_mapping_updated_by_length')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_import_mapping_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mapping')),
    sa.UniqueConstraint('organisation_id', 'kind', name='uq_import_mapping_organisation_kind')
    )


def downgrade() -> None:
    op.drop_table('import_mapping')
