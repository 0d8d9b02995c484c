-- Prefect Alembic revision 67f886da208e (2025_02_03_125228_67f886da208e_add_parameters_column_to_deployment_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "deployment_schedule" DROP COLUMN "parameters";
