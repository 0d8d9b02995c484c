-- Prefect Alembic revision bbca16f6f218 (2025_03_19_145018_bbca16f6f218_create_new_deployment_version_table.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- The table's defaults are Prefect's as its migration writes them on SQLite: GEN_RANDOM_UUID() (a function
-- SQLite does not have) and CURRENT_TIMESTAMP. Prefect always supplies id, created and updated; so does prefectdb.

CREATE TABLE deployment_version (
	deployment_id CHAR(36) NOT NULL, 
	branch VARCHAR, 
	version_info JSON DEFAULT '{}' NOT NULL, 
	description TEXT, 
	tags JSON DEFAULT '[]' NOT NULL, 
	labels JSON, 
	entrypoint VARCHAR, 
	pull_steps JSON, 
	parameters JSON DEFAULT '{}' NOT NULL, 
	parameter_openapi_schema JSON, 
	enforce_parameter_schema BOOLEAN DEFAULT '0' NOT NULL, 
	work_queue_id CHAR(36), 
	work_queue_name VARCHAR, 
	infra_overrides JSON DEFAULT '{}' NOT NULL, 
	id CHAR(36) DEFAULT (GEN_RANDOM_UUID()) NOT NULL, 
	created DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	updated DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	CONSTRAINT pk_deployment_version PRIMARY KEY (id), 
	CONSTRAINT fk_deployment_version__deployment_id__deployment FOREIGN KEY(deployment_id) REFERENCES deployment (id) ON DELETE CASCADE, 
	CONSTRAINT fk_deployment_version__work_queue_id__work_queue FOREIGN KEY(work_queue_id) REFERENCES work_queue (id) ON DELETE SET NULL
);

CREATE INDEX ix_deployment_version__deployment_id ON deployment_version (deployment_id);

CREATE INDEX ix_deployment_version__updated ON deployment_version (updated);

CREATE INDEX ix_deployment_version__work_queue_id ON deployment_version (work_queue_id);

CREATE INDEX ix_deployment_version__work_queue_name ON deployment_version (work_queue_name);

CREATE UNIQUE INDEX uq_deployment_version__deployment__branch ON deployment_version (deployment_id, branch);

ALTER TABLE "deployment" ADD COLUMN "version_id" CHAR(36);

CREATE INDEX "ix_deployment__version_id" ON "deployment" ("version_id");
