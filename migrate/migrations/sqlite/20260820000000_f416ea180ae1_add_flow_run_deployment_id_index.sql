-- Prefect Alembic revision f416ea180ae1 (2026_08_20_000000_f416ea180ae1_add_flow_run_deployment_id_index.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.

CREATE INDEX IF NOT EXISTS ix_flow_run__deployment_id ON flow_run (deployment_id);
