-- Prefect Alembic revision 06b7c293bc69 (2025_03_19_145033_06b7c293bc69_create_new_deployment_version_table.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX "ix_deployment__version_id";

ALTER TABLE "deployment" DROP COLUMN "version_id";

DROP TABLE "deployment_version";
