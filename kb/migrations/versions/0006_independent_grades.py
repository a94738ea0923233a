"""independent grades: the first submitted grade of each review, write-once

Blind grading is only worth something if the grade given before seeing the others' is the one
agreement is computed on. A reviewer could submit a placeholder, read the others' grades, then
edit theirs to match; now the grades of the first submission are copied here, once, in the same
transaction, and the database refuses to change or delete them. Later edits stay in `reviews`
(and the audit log) and are shown as revisions after the reveal. Reviews submitted before this
migration get their current grades as the independent ones: the best record there is.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SUBMITTED = ("reviewed", "disputed", "reconciled")
GUARDED = (("independent_grades", "UPDATE", "independent grades are written once: they cannot be changed"),
           ("independent_grades", "DELETE", "independent grades are written once: they cannot be deleted"))


def upgrade() -> None:
    from kb.migrations.triggers import create_guards
    op.create_table(
        "independent_grades",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("sms_grade", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.String(length=16), nullable=True),
        sa.Column("relevance", sa.String(length=16), nullable=True),
        sa.Column("submitted_at", sa.String(length=32), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("review_id"),
    )
    conn = op.get_bind()
    reviews = sa.table("reviews", sa.column("id"), sa.column("sms_grade"), sa.column("confidence"),
                       sa.column("relevance"), sa.column("status"), sa.column("updated_at"))
    grades = sa.table("independent_grades", sa.column("review_id"), sa.column("sms_grade"), sa.column("confidence"),
                      sa.column("relevance"), sa.column("submitted_at"), sa.column("blind"))
    rows = conn.execute(sa.select(reviews).where(reviews.c.status.in_(SUBMITTED))).all()
    if rows:
        conn.execute(sa.insert(grades), [{"review_id": r.id, "sms_grade": r.sms_grade, "confidence": r.confidence,
                                          "relevance": r.relevance, "submitted_at": r.updated_at, "blind": False}
                                         for r in rows])
    create_guards(conn.dialect.name, GUARDED)


def downgrade() -> None:
    from kb.migrations.triggers import drop_guards
    drop_guards(op.get_bind().dialect.name, GUARDED)
    op.drop_table("independent_grades")
