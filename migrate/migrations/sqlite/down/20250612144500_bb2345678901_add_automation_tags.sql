-- Prefect Alembic revision bb2345678901 (2025_06_12_144500_add_automation_tags_bb2345678901.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "automation" DROP COLUMN "tags";
