-- Prefect Alembic revision 50737cdaee36 (2026_07_20_000000_50737cdaee36_add_event_resources_event_id_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.
-- Down migration.

DROP INDEX IF EXISTS "ix_event_resources__event_id";
