-- Prefect Alembic revision a03d00b8e275 (2025_02_05_152418_a03d00b8e275_add_slug_column_to_deployment_schedule.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds both indexes CONCURRENTLY outside a transaction; here they are built inside the
-- migration's transaction, so the step is atomic (the index definitions are the same).

ALTER TABLE "deployment_schedule" ADD COLUMN "slug" character varying;

CREATE INDEX IF NOT EXISTS "ix_deployment_schedule__slug" ON "deployment_schedule" ("slug");

CREATE UNIQUE INDEX IF NOT EXISTS "ix_deployment_schedule__deployment_id__slug" ON "deployment_schedule" ("deployment_id", "slug") WHERE slug IS NOT NULL;
