-- Prefect Alembic revision 7655f31c5157 (2025_04_28_133722_7655f31c5157_remove_flow_run_notifications.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Before these statements the migrator converts every notification policy into an automation, as Prefect
-- does (migrate/data.go). The down migration recreates the empty tables with their 3.0 definitions;
-- the automations stay, as in Prefect.
-- Down migration.

CREATE TABLE "flow_run_notification_queue" (
	"id" CHAR(36) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))),2) || '-' || substr('89ab',abs(random()) % 4 + 1, 1) || substr(lower(hex(randomblob(2))),2) || '-' || lower(hex(randomblob(6)))),
	"created" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"updated" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"flow_run_notification_policy_id" CHAR(36) NOT NULL,
	"flow_run_state_id" CHAR(36) NOT NULL,
	CONSTRAINT "pk_flow_run_notification_queue" PRIMARY KEY ("id")
);

CREATE INDEX "ix_flow_run_notification_queue__updated" ON "flow_run_notification_queue" ("updated");

CREATE TABLE "flow_run_notification_policy" (
	"id" CHAR(36) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))),2) || '-' || substr('89ab',abs(random()) % 4 + 1, 1) || substr(lower(hex(randomblob(2))),2) || '-' || lower(hex(randomblob(6)))),
	"created" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"updated" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"is_active" BOOLEAN NOT NULL DEFAULT '1',
	"state_names" JSON NOT NULL DEFAULT '[]',
	"tags" JSON NOT NULL DEFAULT '[]',
	"message_template" VARCHAR,
	"block_document_id" CHAR(36) NOT NULL,
	CONSTRAINT "pk_flow_run_notification_policy" PRIMARY KEY ("id"),
	CONSTRAINT "fk_flow_run_alert_policy__block_document_id__block_document" FOREIGN KEY ("block_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_flow_run_notification_policy__updated" ON "flow_run_notification_policy" ("updated");
