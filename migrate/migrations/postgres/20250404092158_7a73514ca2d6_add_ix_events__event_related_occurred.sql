-- Prefect Alembic revision 7a73514ca2d6 (2025_04_04_092158_7a73514ca2d6_add_ix_events__event_related_occurred_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- PostgreSQL only: Prefect's SQLite chain has no counterpart of this revision.

DROP INDEX "ix_events__event_related_occurred";

DROP INDEX "ix_events__related_resource_ids";

CREATE INDEX "ix_events__related_gin" ON "events" USING gin ("related");

CREATE INDEX "ix_events__event_occurred" ON "events" ("event", "occurred");

CREATE INDEX "ix_events__related_resource_ids_gin" ON "events" USING gin ("related_resource_ids");
