-- Prefect Alembic revision a1b2c3d4e5f6 (2026_02_19_200000_add_scheduler_schedule_id_index.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds the index CONCURRENTLY; here it is built in the migration's transaction.

CREATE INDEX IF NOT EXISTS "ix_flow_run__schedule_id_scheduler" ON "flow_run" ("deployment_id", (created_by->>'id'), "next_scheduled_start_time") WHERE state_type = 'SCHEDULED' AND auto_scheduled = true;
