// Package sqlstoretest holds the checks of sqlstore's migrations that both
// SQL stores run on their own database.
package sqlstoretest

import (
	"context"
	"io/fs"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/retention"
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

// IntroductionRetention checks migration 011 and the purge of
// introductions on what was stored before it: each introduction's new
// updated_at is its document's (as precise as stored says the database
// keeps a time), or its expiry when the document has none; the purge then
// deletes the answered or expired ones last changed before the cutoff,
// never one still waiting, and the quota row of every employer left with
// no introduction (it names them and exists only for their requests),
// keeping the others'. db is an empty database with dialect d, migrations
// the store's migration files.
func IntroductionRetention(t *testing.T, db sqlstore.DB, d sqlstore.Dialect, migrations fs.FS, stored func(time.Time) int64) {
	t.Helper()
	ctx := context.Background()
	migrateBefore(t, db, d, migrations, "011")
	answered := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	created, expires := answered.Add(-time.Hour), answered.Add(7*24*time.Hour-time.Hour)
	later := answered.Add(30 * 24 * time.Hour)
	insert := `INSERT INTO introductions (id, listing_id, employer, status, created_at, expires_at, doc) VALUES `
	for _, q := range []string{
		insert + `('i1', 'l1', 'telegram:1', 'accepted', ` + ns(created) + `, ` + ns(expires) + `, '{"updated_at":"` + answered.Format(time.RFC3339Nano) + `"}')`,
		insert + `('i2', 'l1', 'telegram:2', 'requested', ` + ns(created) + `, ` + ns(expires) + `, '{}')`,
		insert + `('i3', 'l2', 'telegram:3', 'declined', ` + ns(created) + `, ` + ns(later) + `, '{"updated_at":"0001-01-01T00:00:00Z"}')`,
		`INSERT INTO introduction_quota (employer) VALUES ('telegram:1'), ('telegram:2'), ('telegram:3'), ('telegram:9')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sqlstore.Migrate(ctx, db, d, migrations); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int64{"i1": stored(answered), "i2": expires.UnixNano(), "i3": later.UnixNano()} {
		var got int64
		if err := db.QueryRow(ctx, `SELECT updated_at FROM introductions WHERE id = ?`, id).Scan(&got); err != nil || got != want {
			t.Errorf("introduction %s: updated_at = %d (%v), want %d", id, got, err, want)
		}
	}

	// Rows written by an askpa older than the migration during a rolling
	// upgrade have no updated_at: the purge judges them by their expiry.
	for _, q := range []string{
		insert + `('i4', 'l2', 'telegram:4', 'accepted', ` + ns(created) + `, ` + ns(answered) + `, '{}')`,
		insert + `('i5', 'l2', 'telegram:5', 'accepted', ` + ns(created) + `, ` + ns(later) + `, '{}')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	long := time.Unix(0, 0)
	cut := retention.Cutoffs{Conversations: long, Escalations: long, Payloads: long, Seen: long, Mail: long, WebSessions: long,
		Introductions: answered.Add(24 * time.Hour)}
	n, err := sqlstore.New(db, d).Purge(ctx, cut, 1)
	if err != nil || n != (retention.Counts{Introductions: 2}) {
		t.Errorf("Purge = %+v, %v; want the introduction answered before the cutoff, and the undated one expiring before it", n, err)
	}
	left := func(q string) []string {
		t.Helper()
		rows, err := db.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	if got := left(`SELECT id FROM introductions ORDER BY id`); !slices.Equal(got, []string{"i2", "i3", "i5"}) {
		t.Errorf("introductions after the purge: %q; want the waiting one, the one declined after the cutoff and the undated one expiring after it", got)
	}
	if got := left(`SELECT employer FROM introduction_quota ORDER BY employer`); !slices.Equal(got, []string{"telegram:2", "telegram:3"}) {
		t.Errorf("quota rows after the purge: %q; want those of the employers with introductions left", got)
	}
}
