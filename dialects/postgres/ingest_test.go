package postgres

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/prefectdb/prefectdb/config"
)

// TestUUIDIsEncodedNatively: on a connection opened by Open, uuid.UUID and
// *uuid.UUID encode as the 16 bytes of a binary uuid (not through
// driver.Valuer's text), and uuid columns scan back into uuid.UUID, through
// pgx and through database/sql.
func TestUUIDIsEncodedNatively(t *testing.T) {
	target := openTestTarget(t)
	ctx := t.Context()
	db, err := Open(ctx, target, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := uuid.New()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		m := pc.TypeMap()
		for _, v := range []any{id, &id} {
			buf, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, v, nil)
			if err != nil || string(buf) != string(id[:]) {
				t.Errorf("%T encodes as %x (%v), want the 16 bytes %x", v, buf, err, id[:])
			}
		}
		if buf, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, (*uuid.UUID)(nil), nil); err != nil || buf != nil {
			t.Errorf("nil *uuid.UUID encodes as %x (%v), want NULL", buf, err)
		}
		var got uuid.UUID
		var null *uuid.UUID
		if err := pc.QueryRow(ctx, "SELECT $1::uuid, NULL::uuid", id).Scan(&got, &null); err != nil || got != id || null != nil {
			t.Errorf("pgx round trip: %v, %v (%v), want %v, nil", got, null, err, id)
		}
		var arr []uuid.UUID
		if err := pc.QueryRow(ctx, "SELECT $1::uuid[]", []uuid.UUID{id, got}).Scan(&arr); err != nil || len(arr) != 2 || arr[0] != id {
			t.Errorf("pgx uuid[] round trip: %v (%v)", arr, err)
		}
		if err := pc.QueryRow(ctx, "SELECT NULL::uuid").Scan(&got); err == nil {
			t.Error("NULL scanned into uuid.UUID without an error")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got uuid.UUID
	var null uuid.NullUUID
	if err := db.QueryRowContext(ctx, "SELECT $1::uuid, $2::uuid", id, (*uuid.UUID)(nil)).Scan(&got, &null); err != nil || got != id || null.Valid {
		t.Errorf("database/sql round trip: %v, %v (%v), want %v, NULL", got, null, err, id)
	}
	var text string
	if err := db.QueryRowContext(ctx, "SELECT $1::uuid::text", id).Scan(&text); err != nil || text != id.String() {
		t.Errorf("uuid as text: %q (%v), want %q", text, err, id)
	}
}
