-- Prefect Alembic revision 5d03c01be85e (2024_12_04_165333_5d03c01be85e_sync_orm_models_and_migrations.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

-- latest_id is non-null in the ORM and on SQLite.
UPDATE "artifact_collection" SET "latest_id" = gen_random_uuid() WHERE "latest_id" IS NULL;

ALTER TABLE "artifact_collection" ALTER COLUMN "latest_id" SET NOT NULL;

CREATE INDEX "ix_artifact_collection__updated" ON "artifact_collection" ("updated");

-- Columns that Prefect's models no longer have (their values are dropped, as Prefect drops them).
ALTER TABLE "deployment" DROP COLUMN "schedule";

ALTER TABLE "deployment" DROP COLUMN "is_schedule_active";

ALTER TABLE "deployment" DROP COLUMN "flow_data";

DROP INDEX "ix_flow_run__deployment_id";

ALTER TABLE "deployment" DROP COLUMN "manifest_path";

ALTER TABLE "deployment_schedule" DROP COLUMN "catchup";

ALTER TABLE "deployment_schedule" DROP COLUMN "max_active_runs";
