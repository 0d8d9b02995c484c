-- Prefect Alembic revision 1c9bb7f78263 (2025_05_04_193249_1c9bb7f78263_add_scope_leader_idx_to_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

DROP INDEX "ix_ae_follower_scope_leader";
