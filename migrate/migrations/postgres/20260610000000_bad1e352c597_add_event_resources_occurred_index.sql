-- Prefect Alembic revision bad1e352c597 (2026_06_10_000000_bad1e352c597_add_event_resources_occurred_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.

CREATE INDEX IF NOT EXISTS "ix_event_resources__occurred" ON "event_resources" ("occurred");
