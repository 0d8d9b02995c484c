-- Prefect Alembic revision 5d03c01be85e (2024_12_04_165333_5d03c01be85e_sync_orm_models_and_migrations.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

CREATE INDEX "ix_flow_run__deployment_id" ON "flow_run" ("deployment_id");

ALTER TABLE "deployment_schedule" ADD COLUMN "max_active_runs" integer;

ALTER TABLE "deployment_schedule" ADD COLUMN "catchup" boolean NOT NULL DEFAULT false;

ALTER TABLE "deployment" ADD COLUMN "flow_data" jsonb;

ALTER TABLE "deployment" ADD COLUMN "is_schedule_active" boolean NOT NULL DEFAULT true;

ALTER TABLE "deployment" ADD COLUMN "manifest_path" character varying;

ALTER TABLE "deployment" ADD COLUMN "schedule" jsonb;

DROP INDEX "ix_artifact_collection__updated";

ALTER TABLE "artifact_collection" ALTER COLUMN "latest_id" DROP NOT NULL;
