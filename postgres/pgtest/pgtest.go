// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by ASKPA_TEST_DATABASE_URL.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the PostgreSQL database tests may use.
const EnvVar = "ASKPA_TEST_DATABASE_URL"

// URL creates a schema for the test in the database at ASKPA_TEST_DATABASE_URL,
// drops it when the test ends, and returns a URL whose search_path is that
// schema. It skips the test, saying how to run it, when the variable is
// unset, and fails it when the database cannot be reached.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		tb.Skip(EnvVar + " is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run the PostgreSQL tests")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvVar, err)
	}
	schema := fmt.Sprintf("askpa_test_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
