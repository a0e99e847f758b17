package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/postgres/pgtest"
	"github.com/askpa/askpa/support"
)

// listingHook records the listing events a webhook URL gets, checking
// their signatures.
type listingHook struct {
	mu     sync.Mutex
	events []string // "event listing-id"
	bodies []string
	bad    int
	srv    *httptest.Server
}

func newListingHook(t *testing.T) *listingHook {
	h := &listingHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := support.Verify([]byte(testWebhookKey), req.Header.Get(support.HeaderTimestamp), req.Header.Get(support.HeaderSignature), body, time.Now()); err != nil {
			h.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev struct {
			Event   string            `json:"event"`
			Listing directory.Listing `json:"listing"`
		}
		if json.Unmarshal(body, &ev) != nil || ev.Event != req.Header.Get(support.HeaderEvent) {
			h.bad++
			http.Error(w, "inconsistent", http.StatusBadRequest)
			return
		}
		h.events = append(h.events, ev.Event+" "+ev.Listing.ID)
		h.bodies = append(h.bodies, string(body))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *listingHook) got() ([]string, []string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events), slices.Clone(h.bodies), h.bad
}

// TestServeListingWebhooks: askpa serve sends every listing change to
// each webhook without an area restriction, signed, in order, without the
// contact details; a webhook limited to an area gets none.
func TestServeListingWebhooks(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testServeListingWebhooks(t, "") })
	t.Run("postgres", func(t *testing.T) { testServeListingWebhooks(t, pgtest.URL(t)) })
}

func testServeListingWebhooks(t *testing.T, databaseURL string) {
	all, devon := newListingHook(t), newListingHook(t)
	base := startServe(t, map[string]string{
		"ASKPA_ADDR":           "127.0.0.1:0",
		"ASKPA_DATABASE_URL":   databaseURL,
		"ASKPA_DATA_DIR":       t.TempDir(),
		"ASKPA_STAFF_TOKENS":   "alex:" + testStaffToken,
		"ASKPA_WEBHOOK_URLS":   all.srv.URL + "/askpa," + devon.srv.URL + "/askpa|devon",
		"ASKPA_WEBHOOK_SECRET": testWebhookKey,
	})
	var l directory.Listing
	st := call(t, "POST", base+"/api/v1/listings", testStaffToken, map[string]any{"kind": "pa", "name": "Sam Taylor", "areas": []string{"EX4"},
		"services": []string{"personal-care"}, "contact": map[string]string{"phone": "07700 900123"}}, &l)
	if st != http.StatusCreated || l.ID == "" {
		t.Fatalf("staff listing: %d %+v", st, l)
	}
	if st := call(t, "POST", base+"/api/v1/listings/"+l.ID+"/withdraw", testStaffToken, map[string]string{}, nil); st != http.StatusOK {
		t.Fatalf("withdraw: %d", st)
	}
	want := []string{directory.EventApproved + " " + l.ID, directory.EventWithdrawn + " " + l.ID}
	eventually(t, 10*time.Second, "the webhook to get listing.approved and listing.withdrawn", func() bool {
		got, _, _ := all.got()
		return len(got) >= len(want)
	})
	got, bodies, bad := all.got()
	if !slices.Equal(got, want) || bad != 0 {
		t.Errorf("the webhook got %q (%d bad); want %q", got, bad, want)
	}
	for _, b := range bodies {
		if strings.Contains(b, "07700") || strings.Contains(b, `"contact"`) || strings.Contains(b, `"escalation"`) {
			t.Errorf("a listing event carries contact details or an escalation: %s", b)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if got, _, _ := devon.got(); len(got) != 0 {
		t.Errorf("the webhook limited to devon got %q", got)
	}
}
