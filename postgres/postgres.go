// Package postgres keeps everything askpa stores (escalations and their
// outbox, the bot's conversations and intake, web sessions and mailboxes,
// the PA network) in PostgreSQL,
// through pgx's connection pool. Several askpa processes may share one
// database: escalations are changed under row locks and outbox rows are
// leased with FOR UPDATE SKIP LOCKED, so nothing is claimed or delivered
// twice at once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/askpa/askpa/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dialect is PostgreSQL's: row locks, SKIP LOCKED, and an advisory lock
// around migrations.
var dialect = sqlstore.Dialect{
	ForUpdate:  " FOR UPDATE",
	SkipLocked: " FOR UPDATE SKIP LOCKED",
	Lock:       "SELECT pg_advisory_xact_lock(4245910)",
	RowID:      "ctid",
	ManyRows:   true,
}

// Store implements support.Store, bot.Store, bot.Mailbox, bot.Intake,
// bot.WebSessions, support.StaffSessions and support.Watcher.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	held leads // roles held (Lead), given up by Close
}

// Close gives up the roles this store holds and closes the database. It is
// idempotent.
func (s *Store) Close() error {
	s.held.releaseAll()
	return s.Store.Close()
}

// Open connects to the database at url (postgres://...), applies the
// embedded migrations and returns the store. A search_path parameter in url
// selects the schema.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d := &conn{pool: pool}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := sqlstore.Migrate(ctx, d, dialect, sub); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{Store: sqlstore.New(d, dialect), pool: pool}, nil
}

// conn adapts a pgx pool to sqlstore.DB.
type conn struct{ pool *pgxpool.Pool }

func (c *conn) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := c.pool.Exec(ctx, sqlstore.Rebind(q), args...)
	return tag.RowsAffected(), err
}

func (c *conn) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rs, err := c.pool.Query(ctx, sqlstore.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	return rows{rs}, nil
}

func (c *conn) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{c.pool.QueryRow(ctx, sqlstore.Rebind(q), args...)}
}

func (c *conn) InTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error { return fn(txq{tx}) })
}

func (c *conn) Ping(ctx context.Context) error { return c.pool.Ping(ctx) }

func (c *conn) Close() error { c.pool.Close(); return nil }

type txq struct{ tx pgx.Tx }

func (t txq) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, sqlstore.Rebind(q), args...)
	return tag.RowsAffected(), err
}

func (t txq) Query(ctx context.Context, q string, args ...any) (sqlstore.Rows, error) {
	rs, err := t.tx.Query(ctx, sqlstore.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	return rows{rs}, nil
}

func (t txq) QueryRow(ctx context.Context, q string, args ...any) sqlstore.Row {
	return row{t.tx.QueryRow(ctx, sqlstore.Rebind(q), args...)}
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.ErrNoRows
	}
	return err
}

type rows struct{ pgx.Rows }
