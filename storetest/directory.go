package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
)

// This file checks directory.Store through directory.Network: what staff,
// PAs and employers see of the PA network.

func newNetwork(t testing.TB, s directory.Store, c *clock) *directory.Network {
	t.Helper()
	n, err := directory.NewNetwork(directory.Config{Store: s, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// paDetails returns a PA's details covering areas and offering services.
func paDetails(name string, areas []string, services ...string) directory.Details {
	return directory.Details{
		Kind: directory.KindPA, Name: name, Areas: areas, Services: services,
		Availability: "Weekday mornings", About: "Friendly and reliable.",
		Experience: "Five years supporting older people.", Contact: directory.Contact{Phone: "07700 900123"},
	}
}

// approved adds an approved listing through staff.
func approved(t testing.TB, n *directory.Network, d directory.Details) directory.Listing {
	t.Helper()
	l, err := n.AddByStaff(context.Background(), "alex", d)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func searchIDs(t *testing.T, n *directory.Network, r directory.SearchRequest) []string {
	t.Helper()
	res, err := n.Search(context.Background(), r)
	if err != nil {
		t.Fatalf("search %+v: %v", r, err)
	}
	var ids []string
	for _, l := range res.Listings {
		ids = append(ids, l.ID)
	}
	return ids
}

// testListingStateMachine walks a self-made listing through moderation and
// checks every illegal move is refused and the audit trail tells the story.
func testListingStateMachine(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	n := newNetwork(t, open(t, o), c)
	l, err := n.Draft(ctx, "slack:T1:U1", paDetails("Sam Taylor", []string{"ex4"}, "personal care"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != directory.StatusDraft || l.DisplayName != "Sam T." || l.Areas[0] != "EX4" || l.Services[0] != "personal-care" {
		t.Fatalf("draft = %+v", l)
	}
	if _, err := n.Approve(ctx, l.ID, "alex"); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("approving a draft: %v, want ErrConflict", err)
	}
	if got := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); len(got) != 0 {
		t.Errorf("a draft is found: %v", got)
	}
	steps := []struct {
		name string
		do   func() (directory.Listing, error)
		want directory.Status
	}{
		{"submit", func() (directory.Listing, error) { return n.Submit(ctx, l.ID, directory.ByOwner) }, directory.StatusPending},
		{"reject", func() (directory.Listing, error) {
			return n.Reject(ctx, l.ID, "alex", "Please say which days you work.")
		}, directory.StatusRejected},
		{"resubmit", func() (directory.Listing, error) { return n.Submit(ctx, l.ID, directory.ByOwner) }, directory.StatusPending},
		{"approve", func() (directory.Listing, error) { return n.Approve(ctx, l.ID, "sam") }, directory.StatusApproved},
		{"pause", func() (directory.Listing, error) { return n.Pause(ctx, l.ID, directory.ByOwner) }, directory.StatusPaused},
		{"resume", func() (directory.Listing, error) { return n.Resume(ctx, l.ID, directory.ByOwner) }, directory.StatusApproved},
		{"renew", func() (directory.Listing, error) { return n.Renew(ctx, l.ID, directory.ByOwner) }, directory.StatusApproved},
		{"withdraw", func() (directory.Listing, error) { return n.Withdraw(ctx, l.ID, directory.ByOwner, "moving away") }, directory.StatusWithdrawn},
	}
	for _, st := range steps {
		c.Add(time.Minute)
		got, err := st.do()
		if err != nil || got.Status != st.want {
			t.Fatalf("%s: %v, %v; want %s", st.name, got.Status, err, st.want)
		}
	}
	for name, do := range map[string]func() (directory.Listing, error){
		"approve":  func() (directory.Listing, error) { return n.Approve(ctx, l.ID, "alex") },
		"renew":    func() (directory.Listing, error) { return n.Renew(ctx, l.ID, directory.ByOwner) },
		"withdraw": func() (directory.Listing, error) { return n.Withdraw(ctx, l.ID, directory.ByOwner, "") },
		"edit": func() (directory.Listing, error) {
			return n.Edit(ctx, l.ID, directory.ByOwner, paDetails("Sam Taylor", []string{"EX4"}, "shopping"))
		},
	} {
		if _, err := do(); !errors.Is(err, directory.ErrConflict) {
			t.Errorf("%s a withdrawn listing: %v, want ErrConflict", name, err)
		}
	}
	if _, err := n.Reject(ctx, "nope", "alex", "x"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("reject unknown: %v, want ErrNotFound", err)
	}
	got, err := n.Get(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, a := range got.Audit {
		trail = append(trail, a.Who+": "+strings.SplitN(a.What, " until ", 2)[0])
	}
	want := []string{"owner: created as a draft", "owner: submitted for moderation", "alex: rejected: Please say which days you work.",
		"owner: submitted for moderation", "sam: approved", "owner: paused", "owner: resumed", "owner: renewed", "owner: withdrawn: moving away"}
	if !slices.Equal(trail, want) {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	if got.Contact.Phone != "07700 900123" {
		t.Errorf("staff lost the contact details: %+v", got.Contact)
	}
}

// testListingModerationQueue checks the queue staff see: by status, oldest
// first, in pages.
func testListingModerationQueue(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	n := newNetwork(t, open(t, o), c)
	var pending []string
	for i := range 5 {
		c.Add(time.Second)
		l, err := n.Draft(ctx, fmt.Sprintf("slack:T1:U%d", i), paDetails(fmt.Sprintf("PA %d", i), []string{"EX4"}, "shopping"))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
				t.Fatal(err)
			}
			pending = append(pending, l.ID)
		}
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := n.List(ctx, directory.ListRequest{Status: directory.StatusPending, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Listings {
			got = append(got, l.ID)
		}
		if cursor = p.Next; cursor == "" || pages > 5 {
			break
		}
	}
	if !slices.Equal(got, pending) {
		t.Errorf("pending queue = %v, want %v", got, pending)
	}
	if _, err := n.List(ctx, directory.ListRequest{Status: "lost"}); !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("unknown status: %v", err)
	}
}

// testListingSearchOrder checks that search finds approved listings only,
// nearest first, filtered by service and words, and pages with More.
func testListingSearchOrder(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	n := newNetwork(t, open(t, o), c)
	town := approved(t, n, paDetails("Town Only", []string{"Exeter"}, "personal-care"))
	c.Add(time.Minute)
	area := approved(t, n, paDetails("Same Area", []string{"EX2", "TQ12"}, "personal-care"))
	c.Add(time.Minute)
	older := approved(t, n, paDetails("Older District", []string{"EX4"}, "personal-care", "dementia"))
	c.Add(time.Minute)
	district := approved(t, n, paDetails("Newer District", []string{"TQ1", "EX4"}, "personal-care"))
	other := approved(t, n, paDetails("Far Away", []string{"M1"}, "personal-care"))
	shop := approved(t, n, paDetails("Shops Only", []string{"EX4"}, "shopping"))
	d := paDetails("Cares Dementia", []string{"EX4"}, "personal-care")
	d.Experience = "Ten years with people living with Dementia."
	c.Add(time.Minute)
	words := approved(t, n, d)
	if _, err := n.Draft(ctx, "slack:T1:U9", paDetails("Not Approved", []string{"EX4"}, "personal-care")); err != nil {
		t.Fatal(err)
	}
	paused := approved(t, n, paDetails("Paused One", []string{"EX4"}, "personal-care"))
	if _, err := n.Pause(ctx, paused.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    directory.SearchRequest
		want []string
	}{
		{"district, then area", directory.SearchRequest{Area: "EX4", Service: "personal care"}, []string{words.ID, district.ID, older.ID, area.ID}},
		{"district and town", directory.SearchRequest{Area: "EX4, Exeter", Service: "personal-care"}, []string{words.ID, district.ID, older.ID, area.ID, town.ID}},
		{"full postcode", directory.SearchRequest{Area: "ex4 6px", Service: "Personal Care"}, []string{words.ID, district.ID, older.ID, area.ID}},
		{"town", directory.SearchRequest{Area: "exeter"}, []string{town.ID}},
		{"words", directory.SearchRequest{Area: "EX4", Q: "dementia"}, []string{words.ID}},
		{"service", directory.SearchRequest{Area: "EX4", Service: "shopping"}, []string{shop.ID}},
		{"another area", directory.SearchRequest{Area: "M1"}, []string{other.ID}},
		{"no match", directory.SearchRequest{Area: "PL1"}, nil},
	} {
		if got := searchIDs(t, n, tc.r); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	res, err := n.Search(ctx, directory.SearchRequest{Area: "EX4", Service: "personal-care", Limit: 2})
	if err != nil || len(res.Listings) != 2 || !res.More || res.Listings[0].Match != "district" || !res.Listings[0].SelfDeclared || res.Notice == "" {
		t.Fatalf("first page: %+v, %v", res, err)
	}
	res, err = n.Search(ctx, directory.SearchRequest{Area: "EX4", Service: "personal-care", Limit: 2, Offset: 2})
	if err != nil || len(res.Listings) != 2 || res.More || res.Listings[1].ID != area.ID || res.Listings[1].Match != "postcode-area" {
		t.Fatalf("second page: %+v, %v", res, err)
	}
	for _, r := range []directory.SearchRequest{{Area: "ZZ9"}, {Area: "EX4!"}, {Service: "gardening"}} {
		if _, err := n.Search(ctx, r); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("search %+v: %v, want ErrInvalid", r, err)
		}
	}
}

// testListingExpiry checks that a listing not renewed in 90 days leaves
// search at once and is expired by the sweep, and that renewing brings it
// back for another 90 days.
func testListingExpiry(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	n := newNetwork(t, open(t, o), c)
	l := approved(t, n, paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	kept := approved(t, n, paDetails("Jo Kept", []string{"EX4"}, "personal-care"))
	c.Add(89 * 24 * time.Hour)
	if _, err := n.Renew(ctx, kept.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); len(got) != 2 {
		t.Fatalf("on day 89: %v", got)
	}
	c.Add(24*time.Hour + time.Second)
	if got := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); !slices.Equal(got, []string{kept.ID}) {
		t.Errorf("after 90 days, before the sweep: %v, want only the renewed listing", got)
	}
	k, err := n.ExpireDue(ctx)
	if err != nil || k != 1 {
		t.Fatalf("ExpireDue = %d, %v; want 1", k, err)
	}
	got, _ := n.Get(ctx, l.ID)
	if got.Status != directory.StatusExpired || got.Audit[len(got.Audit)-1].Who != directory.BySystem {
		t.Errorf("after the sweep: %s, %+v", got.Status, got.Audit)
	}
	if k, _ := n.ExpireDue(ctx); k != 0 {
		t.Errorf("a second sweep expired %d", k)
	}
	if got, err = n.Renew(ctx, l.ID, directory.ByOwner); err != nil || got.Status != directory.StatusApproved || !got.ExpiresAt.Equal(c.Now().UTC().Add(directory.Lifetime)) {
		t.Fatalf("renewing an expired listing: %+v, %v", got, err)
	}
	if ids := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); len(ids) != 2 || ids[0] != l.ID {
		t.Errorf("after renewal (most recently confirmed first): %v", ids)
	}
}

// testListingConcurrentApprovals checks that when several members of staff
// approve or reject one listing at once, exactly one wins.
func testListingConcurrentApprovals(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, o)
	n := newNetwork(t, s, c)
	other := newNetwork(t, open(t, o), c) // another process
	l, err := n.Draft(ctx, "slack:T1:U1", paDetails("Sam Taylor", []string{"EX4"}, "personal-care"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			net := n
			if i%2 == 1 {
				net = other
			}
			var err error
			if i%4 == 3 {
				_, err = net.Reject(ctx, l.ID, fmt.Sprintf("staff%d", i), "Incomplete.")
			} else {
				_, err = net.Approve(ctx, l.ID, fmt.Sprintf("staff%d", i))
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, directory.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Errorf("%d moderations won and %d conflicted; want 1 and 7", wins, conflicts)
	}
	got, _ := n.Get(ctx, l.ID)
	decisions := 0
	for _, a := range got.Audit {
		if a.What == "approved" || strings.HasPrefix(a.What, "rejected") {
			decisions++
		}
	}
	if decisions != 1 {
		t.Errorf("audit trail has %d decisions: %+v", decisions, got.Audit)
	}
}

// testListingSurvivesReopen checks that a listing, its areas and services,
// and its contact details are there after the store is closed and opened
// again, and that another handle finds an approval at once.
func testListingSurvivesReopen(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	s := o(t)
	n := newNetwork(t, s, c)
	d := paDetails("Sam Taylor", []string{"EX4", "Newton Abbot"}, "personal-care", "driving")
	rate := 1450
	d.HourlyRatePence, d.Languages, d.Training, d.DBSUpdateService = &rate, []string{"English", "Polish"}, []string{"Care Certificate"}, true
	l, err := n.Draft(ctx, "slack:T1:U1", d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
		t.Fatal(err)
	}
	other := newNetwork(t, open(t, o), c)
	if _, err := other.Approve(ctx, l.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, n, directory.SearchRequest{Area: "TQ12 Newton Abbot", Service: "driving"}); !slices.Equal(got, []string{l.ID}) {
		t.Errorf("the first handle does not find the approval made through the second: %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n = newNetwork(t, open(t, o), c)
	got, err := n.Get(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != directory.StatusApproved || *got.HourlyRatePence != 1450 || got.Contact.Phone != "07700 900123" ||
		!slices.Equal(got.Areas, []string{"EX4", "Newton Abbot"}) || !got.DBSUpdateService || len(got.Audit) != 3 {
		t.Errorf("after reopening: %+v", got)
	}
	res, err := n.Search(ctx, directory.SearchRequest{Area: "Newton Abbot"})
	if err != nil || len(res.Listings) != 1 || res.Listings[0].Match != "town" || res.Listings[0].Services[1].Label != "Driving" {
		t.Errorf("town search after reopening: %+v, %v", res, err)
	}
	// An edit changes what search finds.
	d.Areas, d.Services = []string{"PL1"}, []string{"shopping"}
	if _, err := n.Edit(ctx, l.ID, directory.ByOwner, d); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Approve(ctx, l.ID, "alex"); err != nil {
		t.Fatal(err)
	}
	if a, b := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}), searchIDs(t, n, directory.SearchRequest{Area: "PL1", Service: "shopping"}); len(a) != 0 || len(b) != 1 {
		t.Errorf("after an edit moved the listing: EX4 %v, PL1 %v", a, b)
	}
}

// BenchSearch seeds 10,000 approved listings over 200 districts in 20
// postcode areas and measures a search by district, service and a word,
// reporting the median and 99th percentile.
func BenchSearch(b *testing.B, newDB BenchNewDB) {
	ctx := context.Background()
	s := open(b, newDB(b))
	c := newClock()
	n := newNetwork(b, s, c)
	svcs := n.Services().Services()
	areas := []string{"EX", "TQ", "PL", "TR", "BS", "BA", "GL", "SN", "SP", "DT", "BH", "SO", "PO", "GU", "RG", "OX", "B", "M", "L", "LS"}
	for i := range 10_000 {
		d := paDetails(fmt.Sprintf("PA%d Person", i), []string{fmt.Sprintf("%s%d", areas[i%20], i/20%10+1), fmt.Sprintf("%s%d", areas[(i+7)%20], i%10+1)},
			svcs[i%len(svcs)].ID, svcs[(i*7+3)%len(svcs)].ID)
		if i%10 == 0 {
			d.Experience = "Supported people living with dementia for years."
		}
		c.Add(time.Second)
		if _, err := n.AddByStaff(ctx, "seed", d); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		r    directory.SearchRequest
	}{
		{"DistrictServiceWord", directory.SearchRequest{Area: "EX4", Service: "personal care", Q: "dementia"}},
		{"DistrictService", directory.SearchRequest{Area: "EX4", Service: "personal-care"}},
		{"District", directory.SearchRequest{Area: "TQ2"}},
		{"TownService", directory.SearchRequest{Area: "Exeter", Service: "shopping"}},
		{"WordAnywhere", directory.SearchRequest{Q: "dementia"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var took []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := n.Search(ctx, tc.r); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// testIntroductions checks introduction requests: the contacts are shared
// only on acceptance, by the listing's owner; one waiting request per
// employer and listing; the daily limit holds even when requests come at
// once through two processes; unanswered requests expire after 7 days.
func testIntroductions(t *testing.T, o Opener) {
	ctx := context.Background()
	c := newClock()
	n := newNetwork(t, open(t, o), c)
	other := newNetwork(t, open(t, o), c)
	var listings []string
	for i := range 8 {
		l, err := n.Draft(ctx, fmt.Sprintf("slack:T1:U%d", i), paDetails(fmt.Sprintf("PA %d", i), []string{"EX4"}, "personal-care"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
			t.Fatal(err)
		}
		if i < 7 {
			if _, err := n.Approve(ctx, l.ID, "alex"); err != nil {
				t.Fatal(err)
			}
		}
		listings = append(listings, l.ID)
	}
	me := directory.Contact{Phone: "07700 900456"}
	note := "Looking for help with personal care three mornings a week."
	in, err := n.RequestIntroduction(ctx, listings[0], "telegram:42", note, me)
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != directory.IntroRequested || !in.ListingContact.IsZero() {
		t.Errorf("a new request: %+v", in)
	}
	for _, tc := range []struct {
		name      string
		listing   string
		note      string
		contact   directory.Contact
		wantError error
	}{
		{"twice", listings[0], note, me, directory.ErrConflict},
		{"pending listing", listings[7], note, me, directory.ErrConflict},
		{"unknown listing", "nope", note, me, directory.ErrNotFound},
		{"phone in note", listings[1], "Call me on 07700 900456", me, directory.ErrInvalid},
		{"no contact", listings[1], note, directory.Contact{}, directory.ErrInvalid},
	} {
		if _, err := n.RequestIntroduction(ctx, tc.listing, "telegram:42", tc.note, tc.contact); !errors.Is(err, tc.wantError) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.wantError)
		}
	}
	if _, err := n.AcceptIntroduction(ctx, in.ID, "slack:T1:U9"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("accepted by someone else: %v", err)
	}
	acc, err := other.AcceptIntroduction(ctx, in.ID, "slack:T1:U0")
	if err != nil || acc.Status != directory.IntroAccepted || acc.ListingContact.Phone != "07700 900123" || acc.EmployerContact.Phone != "07700 900456" {
		t.Fatalf("accepted: %+v, %v", acc, err)
	}
	if _, err := n.DeclineIntroduction(ctx, in.ID, "slack:T1:U0"); !errors.Is(err, directory.ErrConflict) {
		t.Errorf("declining an accepted request: %v", err)
	}

	// Requests 2 to 5 of the day, and more, arrive at once through two
	// processes: only four more get through.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, limited := 0, 0
	for i := 1; i < 7; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			net := n
			if i%2 == 0 {
				net = other
			}
			_, err := net.RequestIntroduction(ctx, listings[i], "telegram:42", note, me)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, directory.ErrRateLimited):
				limited++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 4 || limited != 2 {
		t.Errorf("%d requests went through and %d were limited; want 4 and 2", ok, limited)
	}
	if _, err := n.RequestIntroduction(ctx, listings[1], "telegram:43", note, me); err != nil {
		t.Errorf("another employer is limited too: %v", err)
	}

	// A week later the unanswered requests expire, once.
	c.Add(7*24*time.Hour + time.Second)
	expired, err := n.ExpireIntroductions(ctx)
	if err != nil || len(expired) != 5 {
		t.Fatalf("expired %d, %v; want 5", len(expired), err)
	}
	for _, in := range expired {
		if in.Status != directory.IntroExpired || !in.ListingContact.IsZero() {
			t.Errorf("expired request: %+v", in)
		}
	}
	if again, _ := other.ExpireIntroductions(ctx); len(again) != 0 {
		t.Errorf("expired again: %d", len(again))
	}
	if _, err := n.RequestIntroduction(ctx, listings[6], "telegram:42", note, me); err != nil {
		t.Errorf("the next day: %v", err)
	}
}

// testForgetInNetwork: erasing a PA on Slack deletes the listings they own
// (which search stops finding) and the introductions to them; erasing an
// employer deletes the introductions they asked for and leaves the
// listings; an export shows both before. Nobody else's listing is touched.
func testForgetInNetwork(t *testing.T, o Opener) {
	ctx := context.Background()
	s := open(t, o)
	c := newClock()
	n := newNetwork(t, s, c)
	submit := func(owner, name string) directory.Listing {
		l, err := n.Draft(ctx, owner, paDetails(name, []string{"EX4"}, "personal-care"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
			t.Fatal(err)
		}
		if l, err = n.Approve(ctx, l.ID, "alex"); err != nil {
			t.Fatal(err)
		}
		return l
	}
	pa := submit("slack:T1:UPA7", "Priya Shah")
	other := submit("slack:T1:UPA77", "Olu Ade") // a user id that starts like the first
	employer := bot.Person{Channel: bot.ChannelTelegram, UserID: "5501"}
	for _, l := range []directory.Listing{pa, other} {
		if _, err := n.RequestIntroduction(ctx, l.ID, employer.Key(), "Mornings near the hospital, please.", directory.Contact{Email: "e@example.org"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.RequestIntroduction(ctx, pa.ID, "telegram:5502", "Help with shopping.", directory.Contact{Phone: "07700 900555"}); err != nil {
		t.Fatal(err)
	}

	pp := bot.Person{Channel: bot.ChannelSlack, UserID: "UPA7"}
	d, err := s.PersonData(ctx, pp)
	if err != nil || len(d.Listings) != 1 || d.Listings[0].ID != pa.ID || len(d.Introductions) != 2 {
		t.Fatalf("the PA's data: %d listings, %d introductions (%v); want their listing and the 2 requests to it", len(d.Listings), len(d.Introductions), err)
	}
	f, err := s.ForgetPerson(ctx, pp, c.Now())
	if err != nil || f.Listings != 1 || f.Introductions != 2 {
		t.Fatalf("forgetting the PA: %+v, %v; want 1 listing and 2 introductions", f, err)
	}
	if _, err := s.GetListing(ctx, pa.ID); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("the PA's listing after erasure: %v", err)
	}
	if got := searchIDs(t, n, directory.SearchRequest{Area: "EX4"}); !slices.Equal(got, []string{other.ID}) {
		t.Errorf("search after the PA's erasure finds %v; want only %s", got, other.ID)
	}

	d, err = s.PersonData(ctx, employer)
	if err != nil || len(d.Introductions) != 1 || d.Introductions[0].ListingID != other.ID || len(d.Listings) != 0 {
		t.Fatalf("the employer's data: %+v, %v; want their one remaining request", d.Introductions, err)
	}
	if f, err = s.ForgetPerson(ctx, employer, c.Now()); err != nil || f.Introductions != 1 || f.Listings != 0 {
		t.Fatalf("forgetting the employer: %+v, %v", f, err)
	}
	if l, err := s.GetListing(ctx, other.ID); err != nil || l.Status != directory.StatusApproved {
		t.Errorf("another PA's listing after the employer's erasure: %+v, %v", l.Status, err)
	}
	// The quota row went too: the employer starts afresh.
	if _, err := n.RequestIntroduction(ctx, other.ID, employer.Key(), "Mornings, please.", directory.Contact{Email: "e@example.org"}); err != nil {
		t.Errorf("asking again after erasure: %v", err)
	}
	if f, err = s.ForgetPerson(ctx, pp, c.Now()); err != nil || f.Listings != 0 || f.Introductions != 0 {
		t.Errorf("forgetting the PA again: %+v, %v; want nothing", f, err)
	}
}
