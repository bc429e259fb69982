"""assessment index for "latest assessment per stakeholder": (stakeholder_id, assessed_on, id)

The portfolio dashboard and the staff groups' stance find each stakeholder's latest assessment
on or before a day (ties on a date: the later recorded, the higher id) with one index seek per
stakeholder instead of numbering every assessment with ROW_NUMBER(). With the id in the index
the seek's order is the index's order, so PostgreSQL reads the first entry and stops, with no
sort per stakeholder (SQLite already orders by the rowid inside an index). It replaces
ix_assessment_stakeholder_date (stakeholder_id, assessed_on), which is its prefix and so serves
nothing the new one does not.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_stakeholder_latest', ['stakeholder_id', 'assessed_on', 'id'], unique=False)
        batch_op.drop_index('ix_assessment_stakeholder_date')


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_stakeholder_date', ['stakeholder_id', 'assessed_on'], unique=False)
        batch_op.drop_index('ix_assessment_stakeholder_latest')
