"""reviews: users, review tags, reviews, reconciliations, settings, append-only audit log

The triggers make the database itself refuse to rewrite history: UPDATE and DELETE of `audit_log`
fail, and so does DELETE of a review or a reconciliation (on PostgreSQL, TRUNCATE too).
A later migration that rebuilds one of these tables with batch mode on SQLite (copy, drop,
rename) drops its triggers with the old table and must create them again: use `create_triggers`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

GUARDED = (("audit_log", "UPDATE", "audit_log is append-only: entries cannot be changed"),
           ("audit_log", "DELETE", "audit_log is append-only: entries cannot be deleted"),
           ("reviews", "DELETE", "reviews are never deleted"),
           ("reconciliations", "DELETE", "reconciliations are never deleted"))


def create_triggers(dialect: str) -> None:
    from kb.migrations.triggers import create_guards
    create_guards(dialect, GUARDED)


def drop_triggers(dialect: str) -> None:
    from kb.migrations.triggers import drop_guards
    drop_guards(dialect, GUARDED)


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('review_tags',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('help', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=200), nullable=False),
    sa.Column('evidence_id', sa.String(length=200), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('sms_grade', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=16), nullable=True),
    sa.Column('relevance', sa.String(length=16), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'evidence_id', 'reviewer', name='uq_reviews_target_reviewer')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_reviewer', ['reviewer'], unique=False)

    op.create_table('reconciliations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=200), nullable=False),
    sa.Column('evidence_id', sa.String(length=200), nullable=False),
    sa.Column('editor', sa.String(length=64), nullable=False),
    sa.Column('sms_grade', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.String(length=16), nullable=True),
    sa.Column('relevance', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'evidence_id', name='uq_reconciliations_target')
    )
    op.create_table('review_settings',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=420), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_target', ['target'], unique=False)

    create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    drop_triggers(op.get_bind().dialect.name)
    op.drop_table('audit_log')
    op.drop_table('review_settings')
    op.drop_table('reconciliations')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_reviewer')
    op.drop_table('reviews')
    op.drop_table('review_tags')
    op.drop_table('users')
