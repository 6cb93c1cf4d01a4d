package sqlindex

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestUIDValidity(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER)`); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1795630326, 0)
	steps := []struct {
		note uint32 // NoteUIDValidity first, when not 0
		at   time.Time
		want uint32
	}{
		{at: now, want: 1795630326},
		{at: now, want: 1795630327},                        // the clock has not moved: one more
		{at: now.Add(-time.Hour), want: 1795630328},        // nor does it go back
		{note: 1900000000, at: now, want: 1900000001},      // a value taken from a file raises the floor
		{note: 5, at: now, want: 1900000002},               // a lower one does not lower it
		{at: now.Add(200 * 365 * 24 * time.Hour), want: 1}, // past 32 bits: wraps to 1, never 0
	}
	for i, st := range steps {
		tx, err := db.BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		q := NewTx(context.Background(), tx, "test: index")
		if st.note != 0 {
			if err := q.NoteUIDValidity(st.note); err != nil {
				t.Fatal(err)
			}
		}
		got, err := q.NextUIDValidity(st.at)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Errorf("step %d: NextUIDValidity = %d, want %d", i, got, st.want)
		}
	}
}

func TestExecError(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	err = NewTx(context.Background(), tx, "test: index").Exec(`INSERT INTO nowhere VALUES (1)`)
	if err == nil || err.Error()[:len("test: index: ")] != "test: index: " {
		t.Errorf("Exec on a missing table = %v, want an error prefixed test: index:", err)
	}
}
