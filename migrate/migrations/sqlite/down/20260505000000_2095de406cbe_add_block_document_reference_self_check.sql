-- Prefect Alembic revision 2095de406cbe (2026_05_05_000000_2095de406cbe_add_block_document_reference_self_check.py), SQLite.
-- Written by hand from Prefect's migration; alembic_version is set by the migrator in the same transaction.
-- SQLite cannot alter this constraint in place: the table is rebuilt as Alembic's batch mode does
-- (new table, copy every row, drop, rename, recreate the indexes), with foreign keys off and checked before commit.
-- Down migration.

CREATE TABLE "_alembic_tmp_block_document_reference" (
	"id" CHAR(36) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))),2) || '-' || substr('89ab',abs(random()) % 4 + 1, 1) || substr(lower(hex(randomblob(2))),2) || '-' || lower(hex(randomblob(6)))),
	"created" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"updated" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')),
	"name" VARCHAR NOT NULL,
	"parent_block_document_id" CHAR(36) NOT NULL,
	"reference_block_document_id" CHAR(36) NOT NULL,
	CONSTRAINT "pk_block_document_reference" PRIMARY KEY ("id"),
	CONSTRAINT "fk_block_document_reference__parent_block_document_id__block_document" FOREIGN KEY ("parent_block_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE,
	CONSTRAINT "fk_block_document_reference__reference_block_document_id__block_document" FOREIGN KEY ("reference_block_document_id") REFERENCES "block_document" ("id") ON DELETE CASCADE
);

INSERT INTO "_alembic_tmp_block_document_reference" ("id", "created", "updated", "name", "parent_block_document_id", "reference_block_document_id") SELECT "id", "created", "updated", "name", "parent_block_document_id", "reference_block_document_id" FROM "block_document_reference";

DROP TABLE "block_document_reference";

ALTER TABLE "_alembic_tmp_block_document_reference" RENAME TO "block_document_reference";

CREATE INDEX "ix_block_document_reference__updated" ON "block_document_reference" ("updated");
