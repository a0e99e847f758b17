package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/askpa/askpa/support/postgres"
	"github.com/askpa/askpa/support/storetest"
)

// newDB gives each test its own schema in the database named by
// ASKPA_TEST_DATABASE_URL, dropped when the test ends.
func newDB(t *testing.T) storetest.Opener { return newSchema(t) }

func newSchema(t testing.TB) storetest.Opener {
	t.Helper()
	base := os.Getenv("ASKPA_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("ASKPA_TEST_DATABASE_URL is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run the PostgreSQL store tests")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("askpa_test_%d_%d", time.Now().UnixNano(), os.Getpid())
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to ASKPA_TEST_DATABASE_URL: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return func(t testing.TB) storetest.Store {
		t.Helper()
		s, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDB) }

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Opener { return newSchema(b) })
}
