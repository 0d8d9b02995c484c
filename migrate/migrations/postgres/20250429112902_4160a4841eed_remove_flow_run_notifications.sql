-- Prefect Alembic revision 4160a4841eed (2025_04_29_112902_4160a4841eed_remove_flow_run_notifications.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Before these statements the migrator converts every notification policy into an automation, as Prefect
-- does (migrate/data.go). The down migration recreates the empty tables with their 3.0 definitions
-- (Prefect's own downgrade names the foreign key fk_flow_run_notification_policy__block_document_id__block_document;
-- the 3.0 name is kept here so that a downgrade returns the 3.0 schema); the automations stay, as in Prefect.

DROP TABLE "flow_run_notification_queue";

DROP TABLE "flow_run_notification_policy";
