"""Alembic environment: runs on the connection that kb.storage.upgrade hands over."""
from alembic import context

import kb.reviews.tables  # noqa: F401,E402  (registers the reviewer workflow's tables on metadata)
from kb.storage import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
