"""Alembic environment: always handed a live connection by ``core_api.db.engine``."""

from __future__ import annotations

from alembic import context

from core_api.db.engine import METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through core_api.db.engine.upgrade(engine)")
context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
