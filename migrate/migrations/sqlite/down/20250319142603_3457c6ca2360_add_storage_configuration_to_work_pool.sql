-- Prefect Alembic revision 3457c6ca2360 (2025_03_19_142603_3457c6ca2360_add_storage_configuration_to_work_pool.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "work_pool" DROP COLUMN "storage_configuration";
