-- Prefect Alembic revision eaec5004771f (2024_09_16_152051_eaec5004771f_add_deployment_to_global_concurrency_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

ALTER TABLE "deployment" DROP CONSTRAINT "fk_deployment__concurrency_limit_id__concurrency_limit_v2";

ALTER TABLE "deployment" DROP COLUMN "concurrency_limit_id";
