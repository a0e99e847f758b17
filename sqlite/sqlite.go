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
	"strings"
	"sync"
	"sync/atomic"

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
// handler; other processes still wait on busy_timeout. Statements are
// prepared once and kept (see prepare).
type conn struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts sync.Map // query -> *sql.Stmt
	n     atomic.Int32
}

// maxStatements bounds the prepared statements kept: askpa's queries are
// a fixed set, and one built at run time (a list of a varying length)
// runs unprepared once the set is full.
const maxStatements = 512

// prepare returns the kept statement for q, preparing it the first time;
// nil when too many are kept already, for a script of several statements
// (a migration), or when q cannot be prepared (it then runs unprepared,
// and fails there if it is wrong). SQLite compiles a statement in about
// the time it takes to run a small one.
func (c *conn) prepare(ctx context.Context, q string) *sql.Stmt {
	if st, ok := c.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	if c.n.Load() >= maxStatements || strings.Contains(q, ";") {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := c.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	c.n.Add(1)
	return st
}

func (c *conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	c.mu.Lock() // every Exec writes
	defer c.mu.Unlock()
	if st := c.prepare(ctx, q); st != nil {
		return rowsAffected(st.ExecContext(ctx, args...))
	}
	return execOn(ctx, c.db, q, args)
}

func (c *conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	if st := c.prepare(ctx, q); st != nil {
		return asRows(st.QueryContext(ctx, args...))
	}
	return queryOn(ctx, c.db, q, args)
}

func (c *conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	if st := c.prepare(ctx, q); st != nil {
		return row{st.QueryRowContext(ctx, args...)}
	}
	return row{c.db.QueryRowContext(ctx, q, args...)}
}

func (c *conn) InTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(txq{tx, c}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (c *conn) Ping(ctx context.Context) error { return c.db.PingContext(ctx) }

func (c *conn) Close() error {
	c.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return c.db.Close()
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func execOn(ctx context.Context, e execer, q string, args []any) (int64, error) {
	return rowsAffected(e.ExecContext(ctx, q, args...))
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func queryOn(ctx context.Context, e execer, q string, args []any) (sqlstore.Rows, error) {
	return asRows(e.QueryContext(ctx, q, args...))
}

func asRows(rs *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{rs}, nil
}

// txq runs statements in a transaction, with the statements c keeps
// (database/sql prepares them again only on a connection that has not
// had them yet).
type txq struct {
	tx *sql.Tx
	c  *conn
}

func (t txq) stmt(ctx context.Context, q string) *sql.Stmt {
	if st := t.c.prepare(ctx, q); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	return nil
}

func (t txq) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	if st := t.stmt(ctx, q); st != nil {
		return rowsAffected(st.ExecContext(ctx, args...))
	}
	return execOn(ctx, t.tx, q, args)
}

func (t txq) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return asRows(st.QueryContext(ctx, args...))
	}
	return queryOn(ctx, t.tx, q, args)
}

func (t txq) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	if st := t.stmt(ctx, q); st != nil {
		return row{st.QueryRowContext(ctx, args...)}
	}
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
