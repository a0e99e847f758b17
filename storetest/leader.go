package storetest

import (
	"context"
	"testing"
)

// testLeader checks that a role is held by one caller at a time and can be
// taken again once given up.
func testLeader(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	_, release, ok, err := s.Lead(ctx, "telegram-poller")
	if err != nil || !ok {
		t.Fatalf("Lead on a free role = %v, %v; want it taken", ok, err)
	}
	if _, _, again, err := s.Lead(ctx, "telegram-poller"); err != nil || again {
		t.Fatalf("a second Lead of a held role = %v, %v; want it refused", again, err)
	}
	if _, rel, other, err := s.Lead(ctx, "purge"); err != nil || !other {
		t.Fatalf("another role was refused (%v, %v) while telegram-poller was held", other, err)
	} else {
		rel()
	}
	release()
	release() // idempotent
	_, release, ok, err = s.Lead(ctx, "telegram-poller")
	if err != nil || !ok {
		t.Fatalf("Lead after release = %v, %v; want it taken", ok, err)
	}
	release()
}
