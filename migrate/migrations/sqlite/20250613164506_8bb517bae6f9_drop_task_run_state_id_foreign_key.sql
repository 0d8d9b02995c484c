-- Prefect Alembic revision 8bb517bae6f9 (2025_06_13_164506_8bb517bae6f9_drop_task_run_state_id_foreign_key_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- SQLite cannot alter this constraint in place: the table is rebuilt as Alembic's batch mode does
-- (new table, copy every row, drop, rename, recreate the indexes), with foreign keys off and checked before commit.

CREATE TABLE "_alembic_tmp_task_run" (
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
	state_type VARCHAR(9), 
	run_count INTEGER DEFAULT '0' NOT NULL, 
	expected_start_time DATETIME, 
	next_scheduled_start_time DATETIME, 
	start_time DATETIME, 
	end_time DATETIME, 
	total_run_time DATETIME DEFAULT '0' NOT NULL, 
	task_key VARCHAR NOT NULL, 
	dynamic_key VARCHAR NOT NULL, 
	cache_key VARCHAR, 
	cache_expiration DATETIME, 
	task_version VARCHAR, 
	empirical_policy JSON DEFAULT '{}' NOT NULL, 
	task_inputs JSON DEFAULT '{}' NOT NULL, 
	tags JSON DEFAULT '[]' NOT NULL, 
	flow_run_id CHAR(36), 
	state_id CHAR(36), 
	state_name VARCHAR, 
	state_timestamp DATETIME, 
	flow_run_run_count INTEGER DEFAULT '0' NOT NULL, 
	labels JSON, 
	CONSTRAINT pk_task_run PRIMARY KEY (id), 
	CONSTRAINT fk_task_run__flow_run_id__flow_run FOREIGN KEY(flow_run_id) REFERENCES flow_run (id) ON DELETE CASCADE
);

INSERT INTO "_alembic_tmp_task_run" ("id", "created", "updated", "name", "state_type", "run_count", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time", "task_key", "dynamic_key", "cache_key", "cache_expiration", "task_version", "empirical_policy", "task_inputs", "tags", "flow_run_id", "state_id", "state_name", "state_timestamp", "flow_run_run_count", "labels") SELECT "id", "created", "updated", "name", "state_type", "run_count", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time", "total_run_time", "task_key", "dynamic_key", "cache_key", "cache_expiration", "task_version", "empirical_policy", "task_inputs", "tags", "flow_run_id", "state_id", "state_name", "state_timestamp", "flow_run_run_count", "labels" FROM "task_run";

DROP TABLE "task_run";

ALTER TABLE "_alembic_tmp_task_run" RENAME TO "task_run";

CREATE INDEX "ix_task_run__end_time_desc" ON "task_run" ("end_time");

CREATE INDEX "ix_task_run__expected_start_time_desc" ON "task_run" ("expected_start_time");

CREATE INDEX "ix_task_run__flow_run_id" ON "task_run" ("flow_run_id");

CREATE INDEX "ix_task_run__name" ON "task_run" ("name");

CREATE INDEX "ix_task_run__next_scheduled_start_time_asc" ON "task_run" ("next_scheduled_start_time");

CREATE INDEX "ix_task_run__start_time" ON "task_run" ("start_time");

CREATE INDEX "ix_task_run__state_id" ON "task_run" ("state_id");

CREATE INDEX "ix_task_run__state_name" ON "task_run" ("state_name");

CREATE INDEX "ix_task_run__state_timestamp" ON "task_run" ("state_timestamp");

CREATE INDEX "ix_task_run__state_type" ON "task_run" ("state_type");

CREATE INDEX "ix_task_run__updated" ON "task_run" ("updated");

CREATE UNIQUE INDEX "uq_task_run__flow_run_id_task_key_dynamic_key" ON "task_run" ("flow_run_id", "task_key", "dynamic_key");

CREATE INDEX "ix_task_run_name_case_insensitive" ON "task_run" ("name");
