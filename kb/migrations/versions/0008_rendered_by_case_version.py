"""rendered case pages keyed by the case's version, not the build generation

A build used to move every unchanged page to the new generation (an UPDATE of each row: 0.9 s of
a one-edit build at 10,000 cases); keyed by the version of the case they were rendered from,
pages of unchanged cases stay as they are. The table is a cache: its rows are dropped.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("rendered")
    op.create_table(
        "rendered",
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("style", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "style", "version"),
    )


def downgrade() -> None:
    op.drop_table("rendered")
    op.create_table(
        "rendered",
        sa.Column("generation", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("style", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("generation", "case_id", "style"),
    )
