-- Prefect Alembic revision a1b2c3d4e5f7 (2026_02_19_200000_add_scheduler_schedule_id_index.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX IF EXISTS "ix_flow_run__schedule_id_scheduler";
