package postgres

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/askpa/askpa/internal/sqlstore/sqlstoretest"
	"github.com/askpa/askpa/postgres/pgtest"
)

// TestRetentionMigrationBackfills checks that migration 005 fills the new
// columns of rows written before it from their documents.
func TestRetentionMigrationBackfills(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.RetentionBackfill(t, &conn{pool: pool}, dialect, sub,
		func(at time.Time) int64 { return at.Round(time.Microsecond).UnixNano() })
}

// TestOldTurnsReadWithoutSources checks that turns and escalations written
// before migration 010 read back with no sources.
func TestOldTurnsReadWithoutSources(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.OldTurnsWithoutSources(t, &conn{pool: pool}, dialect, sub)
}

// TestIntroductionRetention checks that migration 011 dates the
// introductions kept before it from their documents, and that the purge
// takes the old answered ones and the quota rows left without any.
func TestIntroductionRetention(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.IntroductionRetention(t, &conn{pool: pool}, dialect, sub,
		func(at time.Time) int64 { return at.Round(time.Microsecond).UnixNano() })
}
