-- Prefect Alembic revision 07ecde74d74d (2025_02_05_152431_07ecde74d74d_add_slug_column_to_deployment_schedule.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "deployment_schedule" ADD COLUMN "slug" VARCHAR;

CREATE INDEX IF NOT EXISTS "ix_deployment_schedule__slug" ON "deployment_schedule" ("slug");

CREATE UNIQUE INDEX IF NOT EXISTS ix_deployment_schedule__deployment_id__slug ON deployment_schedule(deployment_id, slug) WHERE slug IS NOT NULL;
