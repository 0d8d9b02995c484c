package dbiface

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
)

// uniqueUpsertColumns are the conflict targets Prefect's ORM configuration
// gives its upserts, by Ent type, with the table they belong to. Each matches
// a UNIQUE constraint or unique index of the schema.
var uniqueUpsertColumns = map[string]struct {
	table   string
	columns []string
}{
	"Deployment":         {"deployment", []string{"flow_id", "name"}},
	"ConcurrencyLimit":   {"concurrency_limit", []string{"tag"}},
	"FlowRun":            {"flow_run", []string{"flow_id", "idempotency_key"}},
	"BlockType":          {"block_type", []string{"slug"}},
	"ArtifactCollection": {"artifact_collection", []string{"key"}},
	"BlockSchema":        {"block_schema", []string{"checksum", "version"}},
	"Flow":               {"flow", []string{"name"}},
	"SavedSearch":        {"saved_search", []string{"name"}},
	"TaskRun":            {"task_run", []string{"flow_run_id", "task_key", "dynamic_key"}},
	"BlockDocument":      {"block_document", []string{"block_type_id", "name"}},
}

func upsertColumns(typ string) []string {
	return append([]string(nil), uniqueUpsertColumns[typ].columns...)
}

// DeploymentUniqueUpsertColumns is the conflict target of deployment upserts.
func (i *Interface) DeploymentUniqueUpsertColumns() []string { return upsertColumns("Deployment") }

// ConcurrencyLimitUniqueUpsertColumns is the conflict target of concurrency
// limit upserts.
func (i *Interface) ConcurrencyLimitUniqueUpsertColumns() []string {
	return upsertColumns("ConcurrencyLimit")
}

// FlowRunUniqueUpsertColumns is the conflict target of flow run upserts. A
// NULL idempotency key never conflicts.
func (i *Interface) FlowRunUniqueUpsertColumns() []string { return upsertColumns("FlowRun") }

// BlockTypeUniqueUpsertColumns is the conflict target of block type upserts.
func (i *Interface) BlockTypeUniqueUpsertColumns() []string { return upsertColumns("BlockType") }

// ArtifactCollectionUniqueUpsertColumns is the conflict target of artifact
// collection upserts.
func (i *Interface) ArtifactCollectionUniqueUpsertColumns() []string {
	return upsertColumns("ArtifactCollection")
}

// BlockSchemaUniqueUpsertColumns is the conflict target of block schema
// upserts.
func (i *Interface) BlockSchemaUniqueUpsertColumns() []string { return upsertColumns("BlockSchema") }

// FlowUniqueUpsertColumns is the conflict target of flow upserts.
func (i *Interface) FlowUniqueUpsertColumns() []string { return upsertColumns("Flow") }

// SavedSearchUniqueUpsertColumns is the conflict target of saved search
// upserts.
func (i *Interface) SavedSearchUniqueUpsertColumns() []string { return upsertColumns("SavedSearch") }

// TaskRunUniqueUpsertColumns is the conflict target of task run upserts. A
// NULL flow_run_id never conflicts.
func (i *Interface) TaskRunUniqueUpsertColumns() []string { return upsertColumns("TaskRun") }

// BlockDocumentUniqueUpsertColumns is the conflict target of block document
// upserts.
func (i *Interface) BlockDocumentUniqueUpsertColumns() []string {
	return upsertColumns("BlockDocument")
}

// OnConflict says what an upsert does when a row with the same unique key
// exists.
type OnConflict int

const (
	// DoNothing keeps the existing row as it is.
	DoNothing OnConflict = iota
	// DoUpdate overwrites the existing row with every value the create
	// builder sets, except id and created.
	DoUpdate
)

// Upsert inserts the row that create describes (a builder from one of the
// ten entities with unique upsert columns, e.g. s.Flow.Create().SetName(n)),
// or resolves a conflict on the entity's unique upsert columns as onConflict
// says. It returns the id of the row that holds the key afterwards and
// whether the row was inserted. It behaves the same on PostgreSQL and SQLite.
func (s *Session) Upsert(ctx context.Context, create UpsertBuilder, onConflict OnConflict) (id uuid.UUID, inserted bool, err error) {
	return upsert(ctx, s.Client, s.iface.dialect.EntDialect(), create, onConflict)
}

// Upsert is Session.Upsert outside a transaction.
func (i *Interface) Upsert(ctx context.Context, create UpsertBuilder, onConflict OnConflict) (uuid.UUID, bool, error) {
	return upsert(ctx, i.Client, i.dialect.EntDialect(), create, onConflict)
}

// querier is what the id look-up after an upsert needs.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// UpsertBuilder is an Ent create builder that Upsert can run: every create
// builder of package ent (db.Flow.Create(), ...) has these methods,
// generated from ent/template/create_upsert.tmpl. Upsert runs only the
// builders of the ten entities that Prefect upserts; others are refused.
type UpsertBuilder interface {
	// PrefectdbMutation returns the builder's mutation.
	PrefectdbMutation() ent.Mutation
	// PrefectdbSetID sets the id of the row to create.
	PrefectdbSetID(id uuid.UUID)
	// PrefectdbUpsert executes the INSERT with columns as the conflict
	// target, overwriting the existing row if update is true and keeping it
	// otherwise.
	PrefectdbUpsert(ctx context.Context, columns []string, update bool) error
}

func upsert(ctx context.Context, q querier, entDialect string, b UpsertBuilder, onConflict OnConflict) (uuid.UUID, bool, error) {
	if b == nil {
		return uuid.Nil, false, errors.New("dbiface: upsert: no create builder")
	}
	m := b.PrefectdbMutation()
	target, ok := uniqueUpsertColumns[m.Type()]
	if !ok {
		return uuid.Nil, false, fmt.Errorf("dbiface: upsert: %s has no unique upsert columns (Prefect upserts only flows, flow runs, task runs, deployments, saved searches, concurrency limits, artifact collections, block types, block schemas and block documents)", m.Type())
	}
	// Fix the new row's id now: after the insert Ent may report the id of
	// the existing row instead.
	newID, err := mutationID(m)
	if err != nil {
		newID = uuid.New()
		b.PrefectdbSetID(newID)
	}
	var update bool
	switch onConflict {
	case DoNothing:
		// Ent's DoNothing still expects a returned id and fails when the
		// row exists; PrefectdbUpsert uses Ignore (SET id = id), which keeps
		// the row unchanged, instead.
		update = false
	case DoUpdate:
		update = true
	default:
		return uuid.Nil, false, fmt.Errorf("dbiface: upsert: unknown OnConflict %d", onConflict)
	}
	if err := b.PrefectdbUpsert(ctx, target.columns, update); err != nil {
		return uuid.Nil, false, fmt.Errorf("dbiface: upsert %s: %w", m.Type(), err)
	}
	// Ent's returned id is not reliable after a conflict (on SQLite it is
	// the id the builder generated), so look the row up by its key. A NULL in
	// the key never conflicts: the row was inserted.
	preds := make([]*entsql.Predicate, 0, len(target.columns))
	for _, c := range target.columns {
		v, ok := m.Field(c)
		if !ok || isNil(v) {
			return newID, true, nil
		}
		preds = append(preds, entsql.EQ(c, v))
	}
	query, args := entsql.Dialect(entDialect).Select("id").From(entsql.Table(target.table)).Where(entsql.And(preds...)).Query()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("dbiface: upsert %s: read id: %w", m.Type(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return uuid.Nil, false, errors.Join(fmt.Errorf("dbiface: upsert %s: no row holds the key after the upsert", m.Type()), rows.Err())
	}
	var id uuid.UUID
	if err := rows.Scan(&id); err != nil {
		return uuid.Nil, false, fmt.Errorf("dbiface: upsert %s: read id: %w", m.Type(), err)
	}
	return id, id == newID, rows.Err()
}

func mutationID(m ent.Mutation) (uuid.UUID, error) {
	v, ok := m.Field("id")
	if !ok {
		if idm, ok := m.(interface{ ID() (uuid.UUID, bool) }); ok {
			if id, ok := idm.ID(); ok {
				return id, nil
			}
		}
		return uuid.Nil, fmt.Errorf("dbiface: upsert %s: the builder has no id", m.Type())
	}
	id, ok := v.(uuid.UUID)
	if !ok {
		return uuid.Nil, fmt.Errorf("dbiface: upsert %s: id is a %T, not a UUID", m.Type(), v)
	}
	return id, nil
}

// isNil reports whether v, the value of a key field of a mutation, is NULL.
// Mutations report set values by value (string, uuid.UUID); a nil pointer of
// the types the key fields hold counts as NULL too.
func isNil(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case *string:
		return v == nil
	case *uuid.UUID:
		return v == nil
	default:
		return false
	}
}
