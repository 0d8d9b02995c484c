-- Prefect Alembic revision 14806cb26270 (2026_07_20_000000_14806cb26270_add_event_resources_event_id_index.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

CREATE INDEX IF NOT EXISTS ix_event_resources__event_id ON event_resources (event_id);
