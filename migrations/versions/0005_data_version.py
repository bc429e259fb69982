"""data version: a counter every committed change raises in commit order, so cached pages in
every process know when to read again (the newest audit id is not commit-ordered on PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    # Start where the old version (the newest audit event's id) was, so it never goes back.
    op.execute(
        "INSERT INTO data_version (id, value) "
        "SELECT 1, COALESCE(MAX(id), 0) FROM audit_event"
    )


def downgrade() -> None:
    op.drop_table('data_version')
