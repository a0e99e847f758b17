// Package sqlite keeps everything askpa stores (escalations and their
// outbox, the bot's conversations and intake, web sessions and mailboxes,
// the PA network) in one SQLite file,
// using modernc.org/sqlite in WAL mode. It is the default store of askpa
// serve. Several processes may share the file; writes take the database
// lock at the start of each transaction.
//
// The file runs with synchronous=NORMAL: in WAL mode a committed transaction
// survives the process being killed (the crash test does exactly that), and
// the database is never corrupted, but a power cut or kernel crash may lose
// the last transactions before a checkpoint. FULL would close that gap at a
// third of the write rate (about 570 against 1,700 escalations a second on
// the 2-core CI machine); deployments that need it should use PostgreSQL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/askpa/askpa/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements support.Store, bot.Store, bot.Mailbox, bot.Intake,
// bot.WebSessions, support.StaffSessions and support.Watcher.
type Store struct {
	*sqlstore.Store
	roles roles
}

// Open opens (creating when needed) the SQLite database at path, applies
// the embedded migrations and returns the store. The directory must exist.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &conn{db: db}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, d, sqlstore.Dialect{}, sub); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{Store: sqlstore.New(d, sqlstore.Dialect{})}, nil
}

// conn adapts database/sql to sqlstore.DB. Write transactions of one
// process queue on a mutex, which is much faster than SQLite's busy
// handler; other processes still wait on busy_timeout.
type conn struct {
	db *sql.DB
	mu sync.Mutex
}

func (c *conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	c.mu.Lock() // every Exec writes
	defer c.mu.Unlock()
	return execOn(ctx, c.db, q, args)
}

func (c *conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return queryOn(ctx, c.db, q, args)
}

func (c *conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{c.db.QueryRowContext(ctx, q, args...)}
}

func (c *conn) InTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(txq{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (c *conn) Ping(ctx context.Context) error { return c.db.PingContext(ctx) }
func (c *conn) Close() error                   { return c.db.Close() }

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func execOn(ctx context.Context, e execer, q string, args []any) (int64, error) {
	res, err := e.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func queryOn(ctx context.Context, e execer, q string, args []any) (sqlstore.Rows, error) {
	rs, err := e.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return rows{rs}, nil
}

type txq struct{ tx *sql.Tx }

func (t txq) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	return execOn(ctx, t.tx, q, args)
}

func (t txq) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	return queryOn(ctx, t.tx, q, args)
}

func (t txq) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{t.tx.QueryRowContext(ctx, q, args...)}
}

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }
