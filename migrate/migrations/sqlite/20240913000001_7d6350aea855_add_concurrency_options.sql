-- Prefect Alembic revision 7d6350aea855 (2024_09_11_090106_7d6350aea855_add_concurrency_options.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect dates this revision 2024-09-11, before the 3.0 baseline (2024-09-13); its version is numbered after the baseline.

ALTER TABLE "deployment" ADD COLUMN "concurrency_options" JSON;
