package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/askpa/askpa/sqlite"
	"github.com/askpa/askpa/storetest"
)

// newDB gives each test its own database file.
func newDB(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "askpa.db")
	return func(t testing.TB) storetest.Store {
		t.Helper()
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, newDB) }

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Opener {
		path := filepath.Join(b.TempDir(), "askpa.db")
		return func(t testing.TB) storetest.Store {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

// BenchmarkDirectorySearch searches 10,000 listings; see storetest.BenchSearch.
func BenchmarkDirectorySearch(b *testing.B) {
	storetest.BenchSearch(b, func(b *testing.B) storetest.Opener {
		path := filepath.Join(b.TempDir(), "askpa.db")
		return func(t testing.TB) storetest.Store {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
