// Package sqlstore is the SQL implementation of support.Store, bot.Store and
// bot.Mailbox shared by sqlite and postgres. Each of those
// packages supplies a DB (its driver behind a few methods), a Dialect and
// its embedded migrations; the queries and the transaction logic live here
// once.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// ErrNoRows is what a DB's Row.Scan returns when a query found nothing.
var ErrNoRows = errors.New("no rows")

// Row is one result row.
type Row interface {
	// Scan copies the row into dest; it returns ErrNoRows when there is none.
	Scan(dest ...any) error
}

// Rows is a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Querier runs statements, in a transaction or not. Statements use "?"
// placeholders; a DB for a database that numbers them rewrites them.
type Querier interface {
	// Exec runs q and returns the number of rows it affected.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
	Query(ctx context.Context, q string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) Row
}

// DB is a database connection pool.
type DB interface {
	Querier
	// InTx runs fn in a transaction that takes write locks as it goes (or at
	// once), committing when fn returns nil and rolling back otherwise.
	InTx(ctx context.Context, fn func(Querier) error) error
	Ping(ctx context.Context) error
	Close() error
}

// Dialect holds what differs between databases.
type Dialect struct {
	// ForUpdate is appended to a SELECT that reads a row about to be
	// changed: " FOR UPDATE", or "" where transactions lock the database.
	ForUpdate string
	// SkipLocked is appended to the SELECT of due deliveries: " FOR UPDATE
	// SKIP LOCKED", or "".
	SkipLocked string
	// Lock, when not empty, is run first in the migration transaction so
	// that processes starting together migrate one at a time.
	Lock string
	// RowID names the hidden column that identifies a row of a table
	// without a key of its own: "ctid" for PostgreSQL; empty means
	// SQLite's "rowid".
	RowID string
	// ManyRows says that each statement costs a round trip to the
	// server, so that rows written together are better written in one
	// statement of many rows (PostgreSQL). SQLite runs a statement it
	// keeps prepared once a row faster than it compiles one of many.
	ManyRows bool
}

// Rebind rewrites "?" placeholders as $1, $2, ... for PostgreSQL.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migrate applies the migrations in fsys (files named NNN_description.sql,
// applied in order of NNN) that db has not had yet, each in its own
// transaction, recording them in schema_migrations.
func Migrate(ctx context.Context, db DB, d Dialect, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	type mig struct {
		v    int
		name string
	}
	var ms []mig
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migrate: %s is not named NNN_description.sql", n)
		}
		ms = append(ms, mig{v, n})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].v < ms[j].v })
	for _, m := range ms {
		body, err := fs.ReadFile(fsys, m.name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = db.InTx(ctx, func(q Querier) error {
			if d.Lock != "" {
				if _, err := q.Exec(ctx, d.Lock); err != nil {
					return err
				}
			}
			if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
				return err
			}
			var have int
			err := q.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.v).Scan(&have)
			if err != nil || have > 0 {
				return err
			}
			if _, err := q.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err = q.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.v, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}
