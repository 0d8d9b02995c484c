-- Prefect Alembic revision 4ad4658cbefe (2024_09_16_162719_4ad4658cbefe_add_deployment_to_global_concurrency_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- SQLite cannot alter this constraint in place: the table is rebuilt as Alembic's batch mode does
-- (new table, copy every row, drop, rename, recreate the indexes), with foreign keys off and checked before commit.
-- Down migration.

CREATE TABLE "_alembic_tmp_deployment" (
	"id" CHAR(36) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))),2) || '-' || substr('89ab',abs(random()) % 4 + 1, 1) || substr(lower(hex(randomblob(2))),2) || '-' || lower(hex(randomblob(6)))),
	"created" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"updated" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"name" VARCHAR NOT NULL,
	"schedule" JSON,
	"is_schedule_active" BOOLEAN NOT NULL DEFAULT '1',
	"tags" JSON NOT NULL DEFAULT '[]',
	"parameters" JSON NOT NULL DEFAULT '{}',
	"flow_data" JSON,
	"flow_id" CHAR(36) NOT NULL,
	"infrastructure_document_id" CHAR(36),
	"description" TEXT,
	"manifest_path" VARCHAR,
	"parameter_openapi_schema" JSON,
	"storage_document_id" CHAR(36),
	"version" VARCHAR,
	"infra_overrides" JSON NOT NULL DEFAULT '{}',
	"path" VARCHAR,
	"entrypoint" VARCHAR,
	"work_queue_name" VARCHAR,
	"created_by" JSON,
	"updated_by" JSON,
	"work_queue_id" CHAR(36),
	"pull_steps" JSON,
	"enforce_parameter_schema" BOOLEAN NOT NULL DEFAULT '0',
	"last_polled" DATETIME,
	"paused" BOOLEAN NOT NULL DEFAULT '0',
	"status" VARCHAR(9) NOT NULL DEFAULT 'NOT_READY',
	"concurrency_limit" INTEGER,
	"concurrency_options" JSON,
	CONSTRAINT "pk_deployment" PRIMARY KEY ("id"),
	CONSTRAINT "fk_deployment__flow_id__flow" FOREIGN KEY ("flow_id") REFERENCES "flow" ("id") ON DELETE CASCADE,
	CONSTRAINT "fk_deployment__infrastructure_document_id__block_document" FOREIGN KEY ("infrastructure_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE,
	CONSTRAINT "fk_deployment__storage_document_id__block_document" FOREIGN KEY ("storage_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE,
	CONSTRAINT "fk_deployment__work_queue_id__work_queue" FOREIGN KEY ("work_queue_id") REFERENCES "work_queue" ("id") ON DELETE SET NULL
);

INSERT INTO "_alembic_tmp_deployment" ("id", "created", "updated", "name", "schedule", "is_schedule_active", "tags", "parameters", "flow_data", "flow_id", "infrastructure_document_id", "description", "manifest_path", "parameter_openapi_schema", "storage_document_id", "version", "infra_overrides", "path", "entrypoint", "work_queue_name", "created_by", "updated_by", "work_queue_id", "pull_steps", "enforce_parameter_schema", "last_polled", "paused", "status", "concurrency_limit", "concurrency_options") SELECT "id", "created", "updated", "name", "schedule", "is_schedule_active", "tags", "parameters", "flow_data", "flow_id", "infrastructure_document_id", "description", "manifest_path", "parameter_openapi_schema", "storage_document_id", "version", "infra_overrides", "path", "entrypoint", "work_queue_name", "created_by", "updated_by", "work_queue_id", "pull_steps", "enforce_parameter_schema", "last_polled", "paused", "status", "concurrency_limit", "concurrency_options" FROM "deployment";

DROP TABLE "deployment";

ALTER TABLE "_alembic_tmp_deployment" RENAME TO "deployment";

CREATE INDEX "ix_deployment__created" ON "deployment" ("created");

CREATE INDEX "ix_deployment__flow_id" ON "deployment" ("flow_id");

CREATE INDEX "ix_deployment__paused" ON "deployment" ("paused");

CREATE INDEX "ix_deployment__updated" ON "deployment" ("updated");

CREATE INDEX "ix_deployment__work_queue_id" ON "deployment" ("work_queue_id");

CREATE INDEX "ix_deployment__work_queue_name" ON "deployment" ("work_queue_name");

CREATE UNIQUE INDEX "uq_deployment__flow_id_name" ON "deployment" ("flow_id", "name");

CREATE INDEX "ix_deployment_name_case_insensitive" ON "deployment" ("name");
