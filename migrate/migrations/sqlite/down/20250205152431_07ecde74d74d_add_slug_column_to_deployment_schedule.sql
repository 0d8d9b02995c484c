-- Prefect Alembic revision 07ecde74d74d (2025_02_05_152431_07ecde74d74d_add_slug_column_to_deployment_schedule.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX "ix_deployment_schedule__deployment_id__slug";

DROP INDEX "ix_deployment_schedule__slug";

ALTER TABLE "deployment_schedule" DROP COLUMN "slug";
