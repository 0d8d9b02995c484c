-- Prefect Alembic revision 9e83011d1f2a (2025_09_17_091213_9e83011d1f2a_migrate_v1_concurrency_limits_to_v2.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect also creates one lease per held slot in its lease storage (in memory unless configured otherwise),
-- which is not in the database; prefectdb keeps the count of held slots only. The downgrade restores
-- the v1 rows with no active slots (Prefect recovers them from lease storage on a best-effort basis).
-- Down migration.

INSERT INTO "concurrency_limit" ("id", "tag", "concurrency_limit", "active_slots", "created", "updated")
SELECT "id", substr("name", 5), "limit", '[]', "created", "updated"
FROM "concurrency_limit_v2"
WHERE "name" LIKE 'tag:%';

DELETE FROM "concurrency_limit_v2" WHERE "name" LIKE 'tag:%';
