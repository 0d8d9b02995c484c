-- Prefect Alembic revision 9e9dadc36797 (2026_08_20_000000_9e9dadc36797_add_flow_run_deployment_id_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.
-- Down migration.

DROP INDEX IF EXISTS "ix_flow_run__deployment_id";
