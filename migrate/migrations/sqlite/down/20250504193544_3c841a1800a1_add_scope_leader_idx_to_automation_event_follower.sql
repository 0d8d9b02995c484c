-- Prefect Alembic revision 3c841a1800a1 (2025_05_04_193544_3c841a1800a1_add_scope_leader_idx_to_.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX "ix_ae_follower_scope_leader";
