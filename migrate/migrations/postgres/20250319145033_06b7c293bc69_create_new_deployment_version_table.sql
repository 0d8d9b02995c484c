-- Prefect Alembic revision 06b7c293bc69 (2025_03_19_145033_06b7c293bc69_create_new_deployment_version_table.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

CREATE TABLE "deployment_version" (
	"deployment_id" uuid NOT NULL,
	"branch" character varying,
	"version_info" jsonb NOT NULL DEFAULT '{}'::jsonb,
	"description" text,
	"tags" jsonb NOT NULL DEFAULT '[]'::jsonb,
	"labels" jsonb,
	"entrypoint" character varying,
	"pull_steps" jsonb,
	"parameters" jsonb NOT NULL DEFAULT '{}'::jsonb,
	"parameter_openapi_schema" jsonb,
	"enforce_parameter_schema" boolean NOT NULL DEFAULT false,
	"work_queue_id" uuid,
	"work_queue_name" character varying,
	"infra_overrides" jsonb NOT NULL DEFAULT '{}'::jsonb,
	"id" uuid NOT NULL DEFAULT gen_random_uuid(),
	"created" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"updated" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	CONSTRAINT "pk_deployment_version" PRIMARY KEY ("id"),
	CONSTRAINT "fk_deployment_version__deployment_id__deployment" FOREIGN KEY ("deployment_id") REFERENCES "deployment" ("id") ON DELETE CASCADE,
	CONSTRAINT "fk_deployment_version__work_queue_id__work_queue" FOREIGN KEY ("work_queue_id") REFERENCES "work_queue" ("id") ON DELETE SET NULL
);

CREATE INDEX "ix_deployment_version__deployment_id" ON "deployment_version" ("deployment_id");

CREATE INDEX "ix_deployment_version__updated" ON "deployment_version" ("updated");

CREATE INDEX "ix_deployment_version__work_queue_id" ON "deployment_version" ("work_queue_id");

CREATE INDEX "ix_deployment_version__work_queue_name" ON "deployment_version" ("work_queue_name");

CREATE UNIQUE INDEX "uq_deployment_version__deployment__branch" ON "deployment_version" ("deployment_id", "branch");

ALTER TABLE "deployment" ADD COLUMN "version_id" uuid;

CREATE INDEX "ix_deployment__version_id" ON "deployment" ("version_id");
