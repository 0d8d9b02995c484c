-- Prefect Alembic revision 3b86c5ea017a (2025_06_13_160644_3b86c5ea017a_drop_task_run_state_id_foreign_key_.py), PostgreSQL.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- Down migration.

-- Without the foreign key, task_run.state_id may point at states that no longer exist: null them
-- first, as Prefect's downgrade does, or the constraint cannot be added back.
UPDATE "task_run" SET "state_id" = NULL
WHERE "state_id" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "task_run_state" WHERE "task_run_state"."id" = "task_run"."state_id");

ALTER TABLE "task_run" ADD CONSTRAINT "fk_task_run__state_id__task_run_state" FOREIGN KEY ("state_id") REFERENCES "task_run_state" ("id") ON DELETE SET NULL;
