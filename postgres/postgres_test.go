package postgres_test

import (
	"context"
	"testing"

	"github.com/askpa/askpa/postgres"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/storetest"
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

// TestLeaderPassesToAnotherProcess checks that a role held by one process
// (one connection pool) is refused to another until the first lets go or
// is gone.
func TestLeaderPassesToAnotherProcess(t *testing.T) {
	ctx := context.Background()
	open := newSchema(t)
	first, second := open(t), open(t)
	_, release, ok, err := first.Lead(ctx, "telegram-poller")
	if err != nil || !ok {
		t.Fatalf("first Lead = %v, %v", ok, err)
	}
	if _, _, ok, err := second.Lead(ctx, "telegram-poller"); err != nil || ok {
		t.Fatalf("second process took a held role (%v, %v)", ok, err)
	}
	release()
	_, release2, ok, err := second.Lead(ctx, "telegram-poller")
	if err != nil || !ok {
		t.Fatalf("after release, second Lead = %v, %v", ok, err)
	}
	_ = release2 // held until the store closes, as when a process dies
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, rel, ok, err := first.Lead(ctx, "telegram-poller"); err != nil || !ok {
		t.Fatalf("after the holder closed, Lead = %v, %v; want the role free", ok, err)
	} else {
		rel()
	}
}

// BenchmarkDirectorySearch searches 10,000 listings; see storetest.BenchSearch.
func BenchmarkDirectorySearch(b *testing.B) {
	storetest.BenchSearch(b, func(b *testing.B) storetest.Opener { return newSchema(b) })
}
