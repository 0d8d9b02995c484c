-- Prefect Alembic revision a49711513ad4 (2024_12_04_144924_a49711513ad4_sync_orm_models_and_migrations.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect rebuilds deployment and deployment_schedule to drop columns; SQLite's ALTER TABLE DROP COLUMN
-- gives the same tables and keeps every row.
-- Down migration.

DROP INDEX "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu";

CREATE INDEX "ix_flow_run__deployment_id" ON "flow_run" ("deployment_id");

ALTER TABLE "deployment_schedule" ADD COLUMN "max_active_runs" INTEGER;

ALTER TABLE "deployment_schedule" ADD COLUMN "catchup" BOOLEAN NOT NULL DEFAULT '0';

ALTER TABLE "deployment" ADD COLUMN "is_schedule_active" BOOLEAN NOT NULL DEFAULT '1';

ALTER TABLE "deployment" ADD COLUMN "flow_data" JSON;

ALTER TABLE "deployment" ADD COLUMN "schedule" JSON;

ALTER TABLE "deployment" ADD COLUMN "manifest_path" VARCHAR;

DROP INDEX "ix_block_document__block_type_name__name";

CREATE INDEX "ix_block_document__block_type_name_name" ON "block_document" ("block_type_name", "name");

DROP INDEX "ix_artifact__key_created_desc";

CREATE INDEX "ix_artifact__key_created_desc" ON "artifact_collection" ("key", "created" DESC);

DROP INDEX "ix_artifact_collection__updated";
