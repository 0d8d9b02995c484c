-- Prefect Alembic revision c163acd7e8e3 (2025_02_03_125146_c163acd7e8e3_add_parameters_column_to_deployment_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "deployment_schedule" DROP COLUMN "parameters";
