-- Prefect Alembic revision 68a44144428d (2024_11_15_150706_68a44144428d_add_labels_column_to_flow_flowrun_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "task_run" DROP COLUMN "labels";

ALTER TABLE "flow_run" DROP COLUMN "labels";

ALTER TABLE "flow" DROP COLUMN "labels";

ALTER TABLE "deployment" DROP COLUMN "labels";
