"""sign-in: every attempt to sign in, and the sessions shared by every app process

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 18:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_METHOD = sa.Enum('sso', 'local', 'demo', name='signinmethod', native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.create_table('sign_in_attempt',
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('method', _METHOD, nullable=False),
    sa.Column('outcome', sa.Enum('ok', 'wrong_password', 'unknown_email', 'deactivated', 'throttled', name='signinoutcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(email) <= 254', name=op.f('ck_sign_in_attempt_email_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempt'))
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_attempt_email_at', ['email', 'at'], unique=False)

    op.create_table('user_session',
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('method', _METHOD, nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.CheckConstraint('length(email) <= 254', name=op.f('ck_user_session_email_length')),
    sa.CheckConstraint('length(end_reason) <= 60', name=op.f('ck_user_session_end_reason_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index('ix_user_session_email', ['email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index('ix_user_session_email')
    op.drop_table('user_session')
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_attempt_email_at')
    op.drop_table('sign_in_attempt')
