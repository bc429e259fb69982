"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 03:53:25.903601

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('action', sa.Enum('create', 'update', 'delete', name='auditaction', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('record_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index('ix_audit_event_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_event_record', ['record_type', 'record_id'], unique=False)

    op.create_table('organisation',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('short_name', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(name) >= 2 AND length(name) <= 120', name=op.f('ck_organisation_name_length')),
    sa.CheckConstraint('length(short_name) >= 2 AND length(short_name) <= 12', name=op.f('ck_organisation_short_name_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name')),
    sa.UniqueConstraint('short_name', name=op.f('uq_organisation_short_name'))
    )
    op.create_table('programme',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('vision_statement', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('sponsor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('manager', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('target_end_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'active', 'paused', 'closed', name='programmestatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('lawful_basis', sa.Enum('public_task', 'legitimate_interests', 'legal_obligation', 'consent', 'contract', 'vital_interests', name='lawfulbasis', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('budget', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('expected_benefits', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'closed') = (closed_on IS NOT NULL)", name=op.f('ck_programme_closed_on_when_closed')),
    sa.CheckConstraint('budget >= 0', name=op.f('ck_programme_budget_min')),
    sa.CheckConstraint('expected_benefits >= 0', name=op.f('ck_programme_expected_benefits_min')),
    sa.CheckConstraint('length(code) >= 2 AND length(code) <= 20', name=op.f('ck_programme_code_length')),
    sa.CheckConstraint("code = upper(code) AND code NOT LIKE '% %'", name=op.f('ck_programme_code_format')),
    sa.CheckConstraint('length(manager) <= 120', name=op.f('ck_programme_manager_length')),
    sa.CheckConstraint('length(sponsor) <= 120', name=op.f('ck_programme_sponsor_length')),
    sa.CheckConstraint('length(summary) <= 4000', name=op.f('ck_programme_summary_length')),
    sa.CheckConstraint('length(title) >= 3 AND length(title) <= 160', name=op.f('ck_programme_title_length')),
    sa.CheckConstraint('length(vision_statement) <= 2000', name=op.f('ck_programme_vision_statement_length')),
    sa.CheckConstraint('start_date IS NULL OR target_end_date IS NULL OR target_end_date >= start_date', name=op.f('ck_programme_target_end_date_after_start_date')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_programme_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_code'))
    )
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('staff_group',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(name) >= 2 AND length(name) <= 120', name=op.f('ck_staff_group_name_length')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_staff_group_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_group')),
    sa.UniqueConstraint('organisation_id', 'name', name='uq_staff_group_organisation_name')
    )
    op.create_table('app_user',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('role', sa.Enum('admin', 'manager', 'leadership', 'staff', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('staff_group_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.CheckConstraint('length(email) >= 3 AND length(email) <= 254', name=op.f('ck_app_user_email_length')),
    sa.CheckConstraint('length(name) >= 1 AND length(name) <= 120', name=op.f('ck_app_user_name_length')),
    sa.ForeignKeyConstraint(['staff_group_id'], ['staff_group.id'], name=op.f('fk_app_user_staff_group_id_staff_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('email', name=op.f('uq_app_user_email'))
    )
    op.create_table('barrier',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.Enum('risk', 'issue', name='barrierkind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('category', sa.Enum('financial', 'cultural', 'legal_data_protection', 'technical', 'capacity', 'other', name='barriercategory', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('likelihood', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Integer(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('mitigation', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('status', sa.Enum('open', 'mitigating', 'closed', name='barrierstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('impact BETWEEN 1 AND 5', name=op.f('ck_barrier_impact_range')),
    sa.CheckConstraint('length(mitigation) <= 2000', name=op.f('ck_barrier_mitigation_length')),
    sa.CheckConstraint('length(owner) <= 120', name=op.f('ck_barrier_owner_length')),
    sa.CheckConstraint('length(title) >= 3 AND length(title) <= 200', name=op.f('ck_barrier_title_length')),
    sa.CheckConstraint('likelihood BETWEEN 1 AND 5', name=op.f('ck_barrier_likelihood_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_barrier_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_barrier'))
    )
    with op.batch_alter_table('barrier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_barrier_programme_id'), ['programme_id'], unique=False)

    op.create_table('confidence_override',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Enum('green', 'amber_green', 'amber', 'amber_red', 'red', name='deliveryconfidence', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('set_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(reason) >= 10 AND length(reason) <= 1000', name=op.f('ck_confidence_override_reason_length')),
    sa.CheckConstraint('length(set_by) <= 254', name=op.f('ck_confidence_override_set_by_length')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_confidence_override_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidence_override'))
    )
    with op.batch_alter_table('confidence_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidence_override_programme_id'), ['programme_id'], unique=False)

    op.create_table('engagement',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('meeting', 'workshop', 'briefing', 'email', 'survey', name='engagementkind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('follow_up_done', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('follow_up_on IS NULL OR follow_up_on >= occurred_on', name=op.f('ck_engagement_follow_up_after')),
    sa.CheckConstraint('length(outcome) <= 1000', name=op.f('ck_engagement_outcome_length')),
    sa.CheckConstraint('length(summary) >= 3 AND length(summary) <= 2000', name=op.f('ck_engagement_summary_length')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_engagement_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement'))
    )
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_programme_id'), ['programme_id'], unique=False)

    op.create_table('metric',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('direction', sa.Enum('up', 'down', name='direction', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('stage', sa.Enum('vision', 'influencers', 'test', 'equip', 'launch', 'celebrate', name='stage', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(direction = 'up' AND target >= baseline) OR (direction = 'down' AND target <= baseline)", name=op.f('ck_metric_target_matches_direction')),
    sa.CheckConstraint('length(name) >= 3 AND length(name) <= 160', name=op.f('ck_metric_name_length')),
    sa.CheckConstraint('length(unit) <= 20', name=op.f('ck_metric_unit_length')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_metric_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric')),
    sa.UniqueConstraint('programme_id', 'name', name='uq_metric_programme_name')
    )
    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_programme_id'), ['programme_id'], unique=False)

    op.create_table('milestone',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('vision', 'influencers', 'test', 'equip', 'launch', 'celebrate', name='stage', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('completed_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'done', 'blocked', 'cancelled', name='milestonestatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'done') = (completed_date IS NOT NULL)", name=op.f('ck_milestone_completed_when_done')),
    sa.CheckConstraint('length(owner) <= 120', name=op.f('ck_milestone_owner_length')),
    sa.CheckConstraint('length(title) >= 3 AND length(title) <= 200', name=op.f('ck_milestone_title_length')),
    sa.CheckConstraint('weight BETWEEN 1 AND 5', name=op.f('ck_milestone_weight_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_milestone_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_completed', ['programme_id', 'completed_date'], unique=False)
        batch_op.create_index('ix_milestone_programme_stage_status', ['programme_id', 'stage', 'status'], unique=False)
        batch_op.create_index('ix_milestone_status_due', ['status', 'due_date'], unique=False)

    op.create_table('narrative',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
    sa.Column('stage', sa.Enum('vision', 'influencers', 'test', 'equip', 'launch', 'celebrate', name='stage', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('audience', sa.Enum('staff', 'leadership', 'everyone', name='audience', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='narrativestatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'published') = (published_on IS NOT NULL)", name=op.f('ck_narrative_published_on_when_published')),
    sa.CheckConstraint('length(author) <= 120', name=op.f('ck_narrative_author_length')),
    sa.CheckConstraint('length(body) <= 20000', name=op.f('ck_narrative_body_length')),
    sa.CheckConstraint('length(title) >= 3 AND length(title) <= 200', name=op.f('ck_narrative_title_length')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_narrative_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_narrative'))
    )
    with op.batch_alter_table('narrative', schema=None) as batch_op:
        batch_op.create_index('ix_narrative_programme_status', ['programme_id', 'status', 'published_on'], unique=False)

    op.create_table('programme_partner',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_programme_partner_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_programme_partner_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'organisation_id', name=op.f('pk_programme_partner'))
    )
    op.create_table('stage_record',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('vision', 'influencers', 'test', 'equip', 'launch', 'celebrate', name='stage', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('narrative', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('actual_start IS NULL OR actual_end IS NULL OR actual_end >= actual_start', name=op.f('ck_stage_record_actual_end_after_actual_start')),
    sa.CheckConstraint('length(narrative) <= 20000', name=op.f('ck_stage_record_narrative_length')),
    sa.CheckConstraint('planned_start IS NULL OR planned_end IS NULL OR planned_end >= planned_start', name=op.f('ck_stage_record_planned_end_after_planned_start')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_stage_record_programme_id_programme'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_record')),
    sa.UniqueConstraint('programme_id', 'stage', name='uq_stage_record_programme_stage')
    )
    op.create_table('stakeholder',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('staff_group_id', sa.Integer(), nullable=True),
    sa.Column('influence', sa.Integer(), nullable=False),
    sa.Column('interest', sa.Integer(), nullable=False),
    sa.Column('stance', sa.Integer(), nullable=False),
    sa.Column('desired_stance', sa.Integer(), nullable=False),
    sa.Column('relationship_owner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('desired_stance BETWEEN -2 AND 2', name=op.f('ck_stakeholder_desired_stance_range')),
    sa.CheckConstraint('influence BETWEEN 1 AND 5', name=op.f('ck_stakeholder_influence_range')),
    sa.CheckConstraint('interest BETWEEN 1 AND 5', name=op.f('ck_stakeholder_interest_range')),
    sa.CheckConstraint('length(name) >= 2 AND length(name) <= 120', name=op.f('ck_stakeholder_name_length')),
    sa.CheckConstraint('length(notes) <= 2000', name=op.f('ck_stakeholder_notes_length')),
    sa.CheckConstraint('length(relationship_owner) <= 120', name=op.f('ck_stakeholder_relationship_owner_length')),
    sa.CheckConstraint('length(role) <= 120', name=op.f('ck_stakeholder_role_length')),
    sa.CheckConstraint('stance BETWEEN -2 AND 2', name=op.f('ck_stakeholder_stance_range')),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], name=op.f('fk_stakeholder_programme_id_programme'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_group_id'], ['staff_group.id'], name=op.f('fk_stakeholder_staff_group_id_staff_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder')),
    sa.UniqueConstraint('programme_id', 'name', name='uq_stakeholder_programme_name')
    )
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.create_index('ix_stakeholder_programme_stance', ['programme_id', 'influence', 'stance'], unique=False)

    op.create_table('assessment',
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('stance', sa.Integer(), nullable=False),
    sa.Column('influence', sa.Integer(), nullable=True),
    sa.Column('interest', sa.Integer(), nullable=True),
    sa.Column('awareness', sa.Integer(), nullable=True),
    sa.Column('desire', sa.Integer(), nullable=True),
    sa.Column('knowledge', sa.Integer(), nullable=True),
    sa.Column('ability', sa.Integer(), nullable=True),
    sa.Column('reinforcement', sa.Integer(), nullable=True),
    sa.Column('assessed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ability BETWEEN 1 AND 5', name=op.f('ck_assessment_ability_range')),
    sa.CheckConstraint('awareness BETWEEN 1 AND 5', name=op.f('ck_assessment_awareness_range')),
    sa.CheckConstraint('desire BETWEEN 1 AND 5', name=op.f('ck_assessment_desire_range')),
    sa.CheckConstraint('influence BETWEEN 1 AND 5', name=op.f('ck_assessment_influence_range')),
    sa.CheckConstraint('interest BETWEEN 1 AND 5', name=op.f('ck_assessment_interest_range')),
    sa.CheckConstraint('knowledge BETWEEN 1 AND 5', name=op.f('ck_assessment_knowledge_range')),
    sa.CheckConstraint('length(assessed_by) <= 120', name=op.f('ck_assessment_assessed_by_length')),
    sa.CheckConstraint('reinforcement BETWEEN 1 AND 5', name=op.f('ck_assessment_reinforcement_range')),
    sa.CheckConstraint('stance BETWEEN -2 AND 2', name=op.f('ck_assessment_stance_range')),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholder.id'], name=op.f('fk_assessment_stakeholder_id_stakeholder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_stakeholder_date', ['stakeholder_id', 'assessed_on'], unique=False)

    op.create_table('engagement_stakeholder',
    sa.Column('engagement_id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['engagement_id'], ['engagement.id'], name=op.f('fk_engagement_stakeholder_engagement_id_engagement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholder.id'], name=op.f('fk_engagement_stakeholder_stakeholder_id_stakeholder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('engagement_id', 'stakeholder_id', name=op.f('pk_engagement_stakeholder'))
    )
    with op.batch_alter_table('engagement_stakeholder', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_stakeholder_stakeholder', ['stakeholder_id'], unique=False)

    op.create_table('exit_criterion',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('stage_record_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(text) >= 3 AND length(text) <= 300', name=op.f('ck_exit_criterion_text_length')),
    sa.CheckConstraint('position BETWEEN 0 AND 999', name=op.f('ck_exit_criterion_position_range')),
    sa.ForeignKeyConstraint(['stage_record_id'], ['stage_record.id'], name=op.f('fk_exit_criterion_stage_record_id_stage_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_criterion'))
    )
    with op.batch_alter_table('exit_criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exit_criterion_stage_record_id'), ['stage_record_id'], unique=False)

    op.create_table('influence_link',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('from_stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('to_stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('strength', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('from_stakeholder_id <> to_stakeholder_id', name=op.f('ck_influence_link_not_self')),
    sa.CheckConstraint('strength BETWEEN 1 AND 3', name=op.f('ck_influence_link_strength_range')),
    sa.ForeignKeyConstraint(['from_stakeholder_id'], ['stakeholder.id'], name=op.f('fk_influence_link_from_stakeholder_id_stakeholder'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_stakeholder_id'], ['stakeholder.id'], name=op.f('fk_influence_link_to_stakeholder_id_stakeholder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_influence_link')),
    sa.UniqueConstraint('from_stakeholder_id', 'to_stakeholder_id', name='uq_influence_link_pair')
    )
    with op.batch_alter_table('influence_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_influence_link_to_stakeholder_id'), ['to_stakeholder_id'], unique=False)

    op.create_table('metric_reading',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.Integer(), nullable=False),
    sa.Column('reading_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('length(note) <= 500', name=op.f('ck_metric_reading_note_length')),
    sa.ForeignKeyConstraint(['metric_id'], ['metric.id'], name=op.f('fk_metric_reading_metric_id_metric'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_reading')),
    sa.UniqueConstraint('metric_id', 'reading_on', name='uq_metric_reading_metric_date')
    )
    op.create_table('milestone_dependency',
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_milestone_dependency_milestone_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholder.id'], name=op.f('fk_milestone_dependency_stakeholder_id_stakeholder'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('milestone_id', 'stakeholder_id', name=op.f('pk_milestone_dependency'))
    )
    with op.batch_alter_table('milestone_dependency', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_dependency_stakeholder', ['stakeholder_id'], unique=False)

    op.create_table('milestone_impact',
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('staff_group_id', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Enum('low', 'medium', 'high', name='impact', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_milestone_impact_milestone_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_group_id'], ['staff_group.id'], name=op.f('fk_milestone_impact_staff_group_id_staff_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('milestone_id', 'staff_group_id', name=op.f('pk_milestone_impact'))
    )
    with op.batch_alter_table('milestone_impact', schema=None) as batch_op:
        batch_op.create_index('ix_milestone_impact_group', ['staff_group_id'], unique=False)

    op.create_table('user_organisation',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_organisation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_organisation_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'organisation_id', name=op.f('pk_user_organisation'))
    )


def downgrade() -> None:
    op.drop_table('user_organisation')
    with op.batch_alter_table('milestone_impact', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_impact_group')

    op.drop_table('milestone_impact')
    with op.batch_alter_table('milestone_dependency', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_dependency_stakeholder')

    op.drop_table('milestone_dependency')
    op.drop_table('metric_reading')
    with op.batch_alter_table('influence_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_influence_link_to_stakeholder_id'))

    op.drop_table('influence_link')
    with op.batch_alter_table('exit_criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exit_criterion_stage_record_id'))

    op.drop_table('exit_criterion')
    with op.batch_alter_table('engagement_stakeholder', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_stakeholder_stakeholder')

    op.drop_table('engagement_stakeholder')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_stakeholder_date')

    op.drop_table('assessment')
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.drop_index('ix_stakeholder_programme_stance')

    op.drop_table('stakeholder')
    op.drop_table('stage_record')
    op.drop_table('programme_partner')
    with op.batch_alter_table('narrative', schema=None) as batch_op:
        batch_op.drop_index('ix_narrative_programme_status')

    op.drop_table('narrative')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_status_due')
        batch_op.drop_index('ix_milestone_programme_stage_status')
        batch_op.drop_index('ix_milestone_completed')

    op.drop_table('milestone')
    with op.batch_alter_table('metric', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_programme_id'))

    op.drop_table('metric')
    with op.batch_alter_table('engagement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_programme_id'))

    op.drop_table('engagement')
    with op.batch_alter_table('confidence_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidence_override_programme_id'))

    op.drop_table('confidence_override')
    with op.batch_alter_table('barrier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_barrier_programme_id'))

    op.drop_table('barrier')
    op.drop_table('app_user')
    op.drop_table('staff_group')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_organisation_id'))

    op.drop_table('programme')
    op.drop_table('organisation')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_record')
        batch_op.drop_index('ix_audit_event_at')
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))

    op.drop_table('audit_event')
