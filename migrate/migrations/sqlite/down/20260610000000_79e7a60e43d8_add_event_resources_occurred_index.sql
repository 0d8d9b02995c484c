-- Prefect Alembic revision 79e7a60e43d8 (2026_06_10_000000_79e7a60e43d8_add_event_resources_occurred_index.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX IF EXISTS "ix_event_resources__occurred";
