-- Prefect Alembic revision a49711513ad4 (2024_12_04_144924_a49711513ad4_sync_orm_models_and_migrations.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect rebuilds deployment and deployment_schedule to drop columns; SQLite's ALTER TABLE DROP COLUMN
-- gives the same tables and keeps every row.

CREATE INDEX "ix_artifact_collection__updated" ON "artifact_collection" ("updated");

-- ix_artifact__key_created_desc was created on the wrong table; it moves to artifact.
DROP INDEX "ix_artifact__key_created_desc";

CREATE INDEX "ix_artifact__key_created_desc" ON "artifact" ("key", created DESC);

-- Renamed to match PostgreSQL.
DROP INDEX "ix_block_document__block_type_name_name";

CREATE INDEX "ix_block_document__block_type_name__name" ON "block_document" ("block_type_name", "name");

-- Columns that Prefect's models no longer have (their values are dropped, as Prefect drops them).
ALTER TABLE "deployment" DROP COLUMN "schedule";

ALTER TABLE "deployment" DROP COLUMN "is_schedule_active";

ALTER TABLE "deployment" DROP COLUMN "flow_data";

ALTER TABLE "deployment" DROP COLUMN "manifest_path";

ALTER TABLE "deployment_schedule" DROP COLUMN "catchup";

ALTER TABLE "deployment_schedule" DROP COLUMN "max_active_runs";

DROP INDEX "ix_flow_run__deployment_id";

-- Index accidentally dropped by an earlier Prefect migration.
CREATE INDEX "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu" ON "flow_run" ("deployment_id", "auto_scheduled", "next_scheduled_start_time") WHERE state_type = 'SCHEDULED';
