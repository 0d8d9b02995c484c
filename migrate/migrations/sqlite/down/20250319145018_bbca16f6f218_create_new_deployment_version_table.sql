-- Prefect Alembic revision bbca16f6f218 (2025_03_19_145018_bbca16f6f218_create_new_deployment_version_table.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- The table's defaults are Prefect's as its migration writes them on SQLite: GEN_RANDOM_UUID() (a function
-- SQLite does not have) and CURRENT_TIMESTAMP. Prefect always supplies id, created and updated; so does prefectdb.
-- Down migration.

DROP INDEX "ix_deployment__version_id";

ALTER TABLE "deployment" DROP COLUMN "version_id";

DROP TABLE "deployment_version";
