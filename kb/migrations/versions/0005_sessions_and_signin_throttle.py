"""server-side session validity and a shared sign-in throttle

`users.session_epoch` is copied into every session cookie at sign-in; sign-out, a password
reset, a role change and disabling an account increase it, which ends every session of that user
at once. `signin_failures` counts failed sign-ins per account, per address and per both, in the
database every worker and host shares, updated atomically (INSERT ... ON CONFLICT DO UPDATE).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "signin_failures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("signin_failures") as batch:
        batch.create_index("ix_signin_failures_window_start", ["window_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signin_failures") as batch:
        batch.drop_index("ix_signin_failures_window_start")
    op.drop_table("signin_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
