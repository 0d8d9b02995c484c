-- Prefect Alembic revision a03d00b8e275 (2025_02_05_152418_a03d00b8e275_add_slug_column_to_deployment_schedule.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect builds both indexes CONCURRENTLY outside a transaction; here they are built inside the
-- migration's transaction, so the step is atomic (the index definitions are the same).
-- Down migration.

DROP INDEX IF EXISTS "ix_deployment_schedule__deployment_id__slug";

DROP INDEX IF EXISTS "ix_deployment_schedule__slug";

ALTER TABLE "deployment_schedule" DROP COLUMN "slug";
