-- Prefect Alembic revision aa1234567890 (2025_06_12_144500_add_automation_tags_aa1234567890.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "automation" ADD COLUMN "tags" jsonb NOT NULL DEFAULT '[]'::jsonb;
