-- Prefect Alembic revision 7655f31c5157 (2025_04_28_133722_7655f31c5157_remove_flow_run_notifications.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Before these statements the migrator converts every notification policy into an automation, as Prefect
-- does (migrate/data.go). The down migration recreates the empty tables with their 3.0 definitions;
-- the automations stay, as in Prefect.

DROP TABLE "flow_run_notification_queue";

DROP TABLE "flow_run_notification_policy";
