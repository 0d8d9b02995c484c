-- Prefect Alembic revision b5f5644500d2 (2025_03_19_143502_b5f5644500d2_add_storage_configuration_to_work_pool.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "work_pool" DROP COLUMN "storage_configuration";
