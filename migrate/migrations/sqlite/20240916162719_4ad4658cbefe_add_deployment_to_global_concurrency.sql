-- Prefect Alembic revision 4ad4658cbefe (2024_09_16_162719_4ad4658cbefe_add_deployment_to_global_concurrency_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- SQLite cannot alter this constraint in place: the table is rebuilt as Alembic's batch mode does
-- (new table, copy every row, drop, rename, recreate the indexes), with foreign keys off and checked before commit.

CREATE TABLE "_alembic_tmp_deployment" (
	id CHAR(36) DEFAULT ((
        lower(hex(randomblob(4))) 
        || '-' 
        || lower(hex(randomblob(2))) 
        || '-4' 
        || substr(lower(hex(randomblob(2))),2) 
        || '-' 
        || substr('89ab',abs(random()) % 4 + 1, 1) 
        || substr(lower(hex(randomblob(2))),2) 
        || '-' 
        || lower(hex(randomblob(6)))
    )) NOT NULL, 
	created DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, 
	updated DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, 
	name VARCHAR NOT NULL, 
	schedule JSON, 
	is_schedule_active BOOLEAN DEFAULT '1' NOT NULL, 
	tags JSON DEFAULT '[]' NOT NULL, 
	parameters JSON DEFAULT '{}' NOT NULL, 
	flow_data JSON, 
	flow_id CHAR(36) NOT NULL, 
	description TEXT, 
	infrastructure_document_id CHAR(36), 
	manifest_path VARCHAR, 
	parameter_openapi_schema JSON, 
	storage_document_id CHAR(36), 
	version VARCHAR, 
	infra_overrides JSON DEFAULT '{}' NOT NULL, 
	path VARCHAR, 
	entrypoint VARCHAR, 
	work_queue_name VARCHAR, 
	created_by JSON, 
	updated_by JSON, 
	work_queue_id CHAR(36), 
	pull_steps JSON, 
	enforce_parameter_schema BOOLEAN DEFAULT '0' NOT NULL, 
	last_polled DATETIME, 
	paused BOOLEAN DEFAULT '0' NOT NULL, 
	status VARCHAR(9) DEFAULT 'NOT_READY' NOT NULL, 
	concurrency_limit INTEGER, 
	concurrency_options JSON, 
	concurrency_limit_id CHAR(36), 
	CONSTRAINT pk_deployment PRIMARY KEY (id), 
	CONSTRAINT fk_deployment__work_queue_id__work_queue FOREIGN KEY(work_queue_id) REFERENCES work_queue (id) ON DELETE SET NULL, 
	CONSTRAINT fk_deployment__storage_document_id__block_document FOREIGN KEY(storage_document_id) REFERENCES block_document (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment__flow_id__flow FOREIGN KEY(flow_id) REFERENCES flow (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment__infrastructure_document_id__block_document FOREIGN KEY(infrastructure_document_id) REFERENCES block_document (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment__concurrency_limit_id__concurrency_limit_v2 FOREIGN KEY(concurrency_limit_id) REFERENCES concurrency_limit_v2 (id) ON DELETE SET NULL
);

INSERT INTO "_alembic_tmp_deployment" ("id", "created", "updated", "name", "schedule", "is_schedule_active", "tags", "parameters", "flow_data", "flow_id", "description", "infrastructure_document_id", "manifest_path", "parameter_openapi_schema", "storage_document_id", "version", "infra_overrides", "path", "entrypoint", "work_queue_name", "created_by", "updated_by", "work_queue_id", "pull_steps", "enforce_parameter_schema", "last_polled", "paused", "status", "concurrency_limit", "concurrency_options") SELECT "id", "created", "updated", "name", "schedule", "is_schedule_active", "tags", "parameters", "flow_data", "flow_id", "description", "infrastructure_document_id", "manifest_path", "parameter_openapi_schema", "storage_document_id", "version", "infra_overrides", "path", "entrypoint", "work_queue_name", "created_by", "updated_by", "work_queue_id", "pull_steps", "enforce_parameter_schema", "last_polled", "paused", "status", "concurrency_limit", "concurrency_options" FROM "deployment";

DROP TABLE "deployment";

ALTER TABLE "_alembic_tmp_deployment" RENAME TO "deployment";

CREATE INDEX ix_deployment__created ON deployment (created);

CREATE INDEX ix_deployment__flow_id ON deployment (flow_id);

CREATE INDEX ix_deployment__paused ON deployment (paused);

CREATE INDEX ix_deployment__updated ON deployment (updated);

CREATE INDEX ix_deployment__work_queue_id ON deployment (work_queue_id);

CREATE INDEX ix_deployment__work_queue_name ON deployment (work_queue_name);

CREATE INDEX ix_deployment_name_case_insensitive ON deployment (name);

CREATE UNIQUE INDEX uq_deployment__flow_id_name ON deployment (flow_id, name);

-- Link each deployment to its deployment-scoped global concurrency limit.
UPDATE deployment
SET concurrency_limit_id = (
    SELECT l.id
    FROM concurrency_limit_v2 l
    WHERE l.name = 'deployment:' || deployment.id
)
WHERE EXISTS (
    SELECT 1
    FROM concurrency_limit_v2 l
    WHERE l.name = 'deployment:' || deployment.id
);
