-- Prefect Alembic revision 7218aad17905 (2026_05_05_000000_7218aad17905_add_block_document_reference_self_check.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- The constraint name is the one Prefect's naming convention gives ck_block_document_reference__no_self_reference
-- on PostgreSQL, shortened to 63 characters.
-- Down migration.

ALTER TABLE "block_document_reference" DROP CONSTRAINT "ck_block_document_reference__ck_block_document_referenc_824f";
