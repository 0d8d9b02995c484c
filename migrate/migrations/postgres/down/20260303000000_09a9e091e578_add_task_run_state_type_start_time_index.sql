-- Prefect Alembic revision 09a9e091e578 (2026_03_03_000000_add_task_run_state_type_start_time_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.
-- Down migration.

DROP INDEX IF EXISTS "ix_task_run__state_type_start_time";
