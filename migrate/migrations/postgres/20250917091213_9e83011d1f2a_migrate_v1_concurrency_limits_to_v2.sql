-- Prefect Alembic revision 9e83011d1f2a (2025_09_17_091213_9e83011d1f2a_migrate_v1_concurrency_limits_to_v2.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Prefect also creates one lease per held slot in its lease storage (in memory unless configured otherwise),
-- which is not in the database; prefectdb keeps the count of held slots only. The downgrade restores
-- the v1 rows with no active slots (Prefect recovers them from lease storage on a best-effort basis).

-- Every v1 (tag) limit becomes a v2 limit named tag:<tag> with the same id, unless one by that name
-- exists; active_slots becomes the number of slots held. Then the v1 rows are deleted.
INSERT INTO "concurrency_limit_v2"
    ("id", "name", "limit", "active", "active_slots", "denied_slots",
     "slot_decay_per_second", "avg_slot_occupancy_seconds", "created", "updated")
SELECT v1."id", 'tag:' || v1."tag", v1."concurrency_limit", true,
       CASE WHEN jsonb_typeof(v1."active_slots") = 'array' THEN jsonb_array_length(v1."active_slots") ELSE 0 END,
       0, 0.0, 600.0, v1."created", v1."updated"
FROM "concurrency_limit" v1
WHERE NOT EXISTS (SELECT 1 FROM "concurrency_limit_v2" v2 WHERE v2."name" = 'tag:' || v1."tag");

DELETE FROM "concurrency_limit";
