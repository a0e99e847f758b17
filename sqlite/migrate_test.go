package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/askpa/askpa/internal/sqlstore"
	"github.com/askpa/askpa/internal/sqlstore/sqlstoretest"
)

// TestRetentionMigrationBackfills checks that migration 005 fills the new
// columns of rows written before it from their documents.
func TestRetentionMigrationBackfills(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.RetentionBackfill(t, &conn{db: db}, sqlstore.Dialect{}, sub,
		func(at time.Time) int64 { return at.Truncate(time.Millisecond).UnixNano() })
}

// TestOldTurnsReadWithoutSources checks that turns and escalations written
// before migration 010 read back with no sources.
func TestOldTurnsReadWithoutSources(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.OldTurnsWithoutSources(t, &conn{db: db}, sqlstore.Dialect{}, sub)
}

// TestIntroductionRetention checks that migration 011 dates the
// introductions kept before it from their documents, and that the purge
// takes the old answered ones and the quota rows left without any.
func TestIntroductionRetention(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	sqlstoretest.IntroductionRetention(t, &conn{db: db}, sqlstore.Dialect{}, sub,
		func(at time.Time) int64 { return at.Truncate(time.Millisecond).UnixNano() })
}
