-- Prefect Alembic revision 5952a5498b51 (2024_11_15_151042_5952a5498b51_add_labels_column_to_flow_flowrun_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "deployment" ADD COLUMN "labels" JSON;

ALTER TABLE "flow" ADD COLUMN "labels" JSON;

ALTER TABLE "flow_run" ADD COLUMN "labels" JSON;

ALTER TABLE "task_run" ADD COLUMN "labels" JSON;
