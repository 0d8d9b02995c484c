-- Prefect Alembic revision eaec5004771f (2024_09_16_152051_eaec5004771f_add_deployment_to_global_concurrency_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

ALTER TABLE "deployment" ADD COLUMN "concurrency_limit_id" uuid;

ALTER TABLE "deployment" ADD CONSTRAINT "fk_deployment__concurrency_limit_id__concurrency_limit_v2" FOREIGN KEY ("concurrency_limit_id") REFERENCES "concurrency_limit_v2" ("id") ON DELETE SET NULL;

-- Link each deployment to its deployment-scoped global concurrency limit.
WITH deployment_limit_mapping AS (
    SELECT d.id AS deployment_id, l.id AS limit_id
    FROM deployment d
    JOIN concurrency_limit_v2 l ON l.name = 'deployment:' || d.id::text
)
UPDATE deployment
SET concurrency_limit_id = dlm.limit_id
FROM deployment_limit_mapping dlm
WHERE deployment.id = dlm.deployment_id;
