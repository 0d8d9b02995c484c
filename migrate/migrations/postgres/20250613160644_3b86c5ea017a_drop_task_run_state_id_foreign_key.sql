-- Prefect Alembic revision 3b86c5ea017a (2025_06_13_160644_3b86c5ea017a_drop_task_run_state_id_foreign_key_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "task_run" DROP CONSTRAINT "fk_task_run__state_id__task_run_state";
