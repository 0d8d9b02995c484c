-- Prefect Alembic revision 50737cdaee36 (2026_07_20_000000_50737cdaee36_add_event_resources_event_id_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.

-- An invalid index of this name (left by an interrupted concurrent build) is dropped first, as Prefect does.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname = 'ix_event_resources__event_id' AND n.nspname = current_schema() AND NOT i.indisvalid) THEN
        DROP INDEX ix_event_resources__event_id;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS "ix_event_resources__event_id" ON "event_resources" ("event_id");
