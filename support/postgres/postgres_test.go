package postgres_test

import (
	"context"
	"testing"

	"github.com/askpa/askpa/support/postgres"
	"github.com/askpa/askpa/support/postgres/pgtest"
	"github.com/askpa/askpa/support/storetest"
)

// newDB gives each test its own schema in the database named by
// ASKPA_TEST_DATABASE_URL, dropped when the test ends.
func newDB(t *testing.T) storetest.Opener { return newSchema(t) }

func newSchema(t testing.TB) storetest.Opener {
	t.Helper()
	u := pgtest.URL(t)
	return func(t testing.TB) storetest.Store {
		t.Helper()
		s, err := postgres.Open(context.Background(), u)
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
