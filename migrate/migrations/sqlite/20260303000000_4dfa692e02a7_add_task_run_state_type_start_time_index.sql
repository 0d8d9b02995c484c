-- Prefect Alembic revision 4dfa692e02a7 (2026_03_03_000000_add_task_run_state_type_start_time_index.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

CREATE INDEX IF NOT EXISTS ix_task_run__state_type_start_time ON task_run (state_type, start_time);
