-- Prefect Alembic revision 3457c6ca2360 (2025_03_19_142603_3457c6ca2360_add_storage_configuration_to_work_pool.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "work_pool" ADD COLUMN "storage_configuration" JSON NOT NULL DEFAULT '{}';
