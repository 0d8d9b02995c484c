-- Prefect Alembic revision 555ed31b284d (2024_09_11_090317_555ed31b284d_add_concurrency_options.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect dates this revision 2024-09-11, before the 3.0 baseline (2024-09-13); its version is numbered after the baseline.
-- Down migration.

ALTER TABLE "deployment" DROP COLUMN "concurrency_options";
