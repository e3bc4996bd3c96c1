"""The transactional database: ORM models, column types, engine and migrations."""
