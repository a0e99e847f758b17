// Package sqlstoretest holds the checks of sqlstore's migrations that both
// SQL stores run on their own database.
package sqlstoretest

import (
	"context"
	"io/fs"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/askpa/askpa/internal/sqlstore"
)

// RetentionBackfill checks that migration 005 fills the new columns of rows
// written before it from their documents. db is an empty database with
// dialect d, migrations the store's migration files, and stored says what
// the database keeps of a time written in a document (its precision),
// in nanoseconds.
func RetentionBackfill(t *testing.T, db sqlstore.DB, d sqlstore.Dialect, migrations fs.FS, stored func(time.Time) int64) {
	t.Helper()
	ctx := context.Background()
	migrateBefore(t, db, d, migrations, "005")
	updated := time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)
	turnAt := time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)
	posted := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO conversations (id, conv_key, created_at, doc) VALUES ('c1', 'telegram:1', 1, '{"updated_at":"` + updated.Format(time.RFC3339Nano) + `"}')`,
		`INSERT INTO conversations (id, conv_key, created_at, doc) VALUES ('c2', 'slack:U2', 5, '{"updated_at":"0001-01-01T00:00:00Z"}')`,
		`INSERT INTO conversations (id, conv_key, created_at, doc) VALUES ('c3', 'web:w3', 7, '{}')`,
		`INSERT INTO turns (conversation_id, sender, body, at) VALUES ('c2', 'user', 'hi', ` + strconv.FormatInt(turnAt.UnixNano(), 10) + `)`,
		`INSERT INTO escalations (id, status, prank, created_at, updated_at, doc) VALUES ('e1', 'open', 1, 1, 1, '{"address":{"channel":"telegram","user_id":"1"}}')`,
		`INSERT INTO mail (user_id, seq, doc) VALUES ('w3', 1, '{"at":"` + posted.Format(time.RFC3339Nano) + `"}')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sqlstore.Migrate(ctx, db, d, migrations); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want int64
	}{
		{`SELECT last_at FROM conversations WHERE id = 'c1'`, stored(updated)},
		{`SELECT last_at FROM conversations WHERE id = 'c2'`, turnAt.UnixNano()},
		{`SELECT last_at FROM conversations WHERE id = 'c3'`, 7},
		{`SELECT at FROM mail WHERE user_id = 'w3'`, posted.UnixNano()},
	} {
		var got int64
		if err := db.QueryRow(ctx, tc.q).Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s = %d (%v), want %d", tc.q, got, err, tc.want)
		}
	}
	var person string
	if err := db.QueryRow(ctx, `SELECT person FROM escalations WHERE id = 'e1'`).Scan(&person); err != nil || person != "telegram:1" {
		t.Errorf("escalation person %q (%v), want telegram:1", person, err)
	}
}

// OldTurnsWithoutSources checks that migration 010 keeps what was written
// before it readable: a bot turn kept before turns had sources reads back
// with none, and so does a bot message of an escalation made then. db is
// an empty database with dialect d, migrations the store's migration files.
func OldTurnsWithoutSources(t *testing.T, db sqlstore.DB, d sqlstore.Dialect, migrations fs.FS) {
	t.Helper()
	ctx := context.Background()
	migrateBefore(t, db, d, migrations, "010")
	at := time.Date(2026, 10, 3, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO conversations (id, conv_key, created_at, last_at, doc) VALUES ('c1', 'telegram:1', 1, 1, '{}')`,
		`INSERT INTO turns (conversation_id, sender, body, at) VALUES ('c1', 'user', 'how much holiday?', ` + strconv.FormatInt(at.UnixNano(), 10) + `)`,
		`INSERT INTO turns (conversation_id, sender, body, at) VALUES ('c1', 'bot', '5.6 weeks', ` + strconv.FormatInt(at.UnixNano(), 10) + `)`,
		`INSERT INTO escalations (id, status, prank, created_at, updated_at, person, doc) VALUES ('e1', 'open', 1, 1, 1, 'telegram:1',
			'{"id":"e1","status":"open","priority":"normal","address":{"channel":"telegram","user_id":"1"},"messages":[{"seq":1,"from":"bot","text":"5.6 weeks","at":"2026-10-03T09:00:00Z"}],"audit":[]}')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sqlstore.Migrate(ctx, db, d, migrations); err != nil {
		t.Fatal(err)
	}
	s := sqlstore.New(db, d)
	ts, err := s.Turns(ctx, "c1", 0)
	if err != nil || len(ts) != 2 {
		t.Fatalf("turns kept before migration 010: %+v, %v", ts, err)
	}
	for _, tn := range ts {
		if tn.Sources != nil {
			t.Errorf("turn %q kept before sources were reads back with sources %+v", tn.Text, tn.Sources)
		}
	}
	if ts[1].Text != "5.6 weeks" || !ts[1].At.Equal(at) {
		t.Errorf("old bot turn = %+v", ts[1])
	}
	e, err := s.Get(ctx, "e1")
	if err != nil || len(e.Messages) != 1 || e.Messages[0].Sources != nil || e.Messages[0].Text != "5.6 weeks" {
		t.Errorf("escalation made before sources were: %+v, %v", e.Messages, err)
	}
}

// migrateBefore applies the migrations older than version (such as "010")
// to db, so that a test can write rows as they were kept before it.
func migrateBefore(t *testing.T, db sqlstore.DB, d sqlstore.Dialect, migrations fs.FS, version string) {
	t.Helper()
	before := fstest.MapFS{}
	names, _ := fs.Glob(migrations, "*.sql")
	for _, n := range names {
		if n < version {
			body, _ := fs.ReadFile(migrations, n)
			before[n] = &fstest.MapFile{Data: body}
		}
	}
	if err := sqlstore.Migrate(context.Background(), db, d, before); err != nil {
		t.Fatal(err)
	}
}
