"""allocation, coding questions and discussion notes of the reviewer workflow

- `review_assignments`: an editor gives an item to a named reviewer (single items, a case, a
  theme, a random share for double grading, or a calibration item whose grade is known).
- `review_questions`: questions editors define without a code change, versioned: editing one adds a
  version, so an answer keeps the wording it was given under.
- `answers` on reviews, on the write-once independent grades and on reconciliations: the coding
  questions' answers, {question key: {"version": n, "value": ...}}.
- `review_discussions`: an editor's note on a disputed item, shown to its reviewers once they have
  submitted.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_assignments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("evidence_id", sa.String(length=200), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("assigned_by", sa.String(length=80), nullable=False),
        sa.Column("assigned_at", sa.String(length=32), nullable=False),
        sa.UniqueConstraint("case_id", "evidence_id", "reviewer", name="uq_review_assignments_target_reviewer"),
        sa.Index("ix_review_assignments_reviewer", "reviewer"),
    )
    op.create_table(
        "review_questions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("ordinal", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("question_set", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", "version"),
    )
    op.create_table(
        "review_discussions",
        sa.Column("case_id", sa.String(length=200), nullable=False),
        sa.Column("evidence_id", sa.String(length=200), nullable=False),
        sa.Column("editor", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_html", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "evidence_id"),
    )
    # plain ALTER TABLE ADD COLUMN, not a batch copy: a copy of independent_grades on SQLite would
    # lose the triggers that keep it write-once
    for table in ("reviews", "independent_grades", "reconciliations"):
        op.add_column(table, sa.Column("answers", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("reconciliations", "independent_grades", "reviews"):
        op.drop_column(table, "answers")
    op.drop_table("review_discussions")
    op.drop_table("review_questions")
    op.drop_table("review_assignments")
