-- Prefect Alembic revision 4160a4841eed (2025_04_29_112902_4160a4841eed_remove_flow_run_notifications.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Before these statements the migrator converts every notification policy into an automation, as Prefect
-- does (migrate/data.go). The down migration recreates the empty tables with their 3.0 definitions
-- (Prefect's own downgrade names the foreign key fk_flow_run_notification_policy__block_document_id__block_document;
-- the 3.0 name is kept here so that a downgrade returns the 3.0 schema); the automations stay, as in Prefect.
-- Down migration.

CREATE TABLE "flow_run_notification_queue" (
	"id" uuid NOT NULL DEFAULT gen_random_uuid(),
	"created" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"updated" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"flow_run_notification_policy_id" uuid NOT NULL,
	"flow_run_state_id" uuid NOT NULL,
	CONSTRAINT "pk_flow_run_notification_queue" PRIMARY KEY ("id")
);

CREATE INDEX "ix_flow_run_notification_queue__updated" ON "flow_run_notification_queue" ("updated");

CREATE TABLE "flow_run_notification_policy" (
	"id" uuid NOT NULL DEFAULT gen_random_uuid(),
	"created" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"updated" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
	"is_active" boolean NOT NULL DEFAULT true,
	"state_names" jsonb NOT NULL DEFAULT '[]'::jsonb,
	"tags" jsonb NOT NULL DEFAULT '[]'::jsonb,
	"message_template" character varying,
	"block_document_id" uuid NOT NULL,
	CONSTRAINT "pk_flow_run_notification_policy" PRIMARY KEY ("id")
);

CREATE INDEX "ix_flow_run_notification_policy__updated" ON "flow_run_notification_policy" ("updated");

ALTER TABLE "flow_run_notification_policy" ADD CONSTRAINT "fk_flow_run_alert_policy__block_document_id__block_document" FOREIGN KEY ("block_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE;
