-- Prefect Alembic revision 9e9dadc36797 (2026_08_20_000000_9e9dadc36797_add_flow_run_deployment_id_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.

-- An invalid index of this name (left by an interrupted concurrent build) is dropped first, as Prefect does.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relname = 'ix_flow_run__deployment_id' AND n.nspname = current_schema() AND NOT i.indisvalid) THEN
        DROP INDEX ix_flow_run__deployment_id;
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS "ix_flow_run__deployment_id" ON "flow_run" ("deployment_id");
