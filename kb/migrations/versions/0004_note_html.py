"""review notes rendered once, at save: reviews.note_html

A note used to be rendered on every view, so one hostile note (20,000 `[`) took an item's page
offline for everyone. The HTML is now made when the review is written and stored beside the raw
Markdown; this fills it for the reviews already there.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from kb.reviews.notes import render_note
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("note_html", sa.Text(), nullable=False, server_default=""))
    conn = op.get_bind()
    table = sa.table("reviews", sa.column("id", sa.Integer), sa.column("note", sa.Text), sa.column("note_html", sa.Text))
    for review_id, note in conn.execute(sa.select(table.c.id, table.c.note).where(table.c.note != "")).all():
        conn.execute(sa.update(table).where(table.c.id == review_id).values(note_html=render_note(note)))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("note_html")
