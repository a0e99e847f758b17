package directory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store keeps listings. Implementations live in sqlite and
// postgres (one SQL implementation in internal/sqlstore) and
// pass the conformance suite in storetest; several processes may
// share one store, and a change made through one is seen by the searches of
// every other at once (search reads the store).
type Store interface {
	// CreateListing inserts c.Listing and records c (see Change) in one
	// transaction. It returns ErrConflict when a listing with c.Listing.ID
	// exists.
	CreateListing(ctx context.Context, c Change) error
	// UpdateListing changes listing id in one transaction: it locks and
	// loads it, calls change, and when change returns nil saves it and
	// records the Change that change returned, with Listing set to the
	// listing as saved (see Change). It returns ErrNotFound for an unknown
	// id and change's own error unchanged, and then stores and records
	// nothing; two updates of one listing never interleave.
	UpdateListing(ctx context.Context, id string, change func(*Listing) (Change, error)) (Listing, error)
	// GetListing returns listing id, or ErrNotFound.
	GetListing(ctx context.Context, id string) (Listing, error)
	// ListListings returns up to q.Limit listings matching q, oldest first
	// (then by id), starting after q.After.
	ListListings(ctx context.Context, q ListingQuery) ([]Listing, error)
	// SearchListings returns up to q.Limit approved listings whose expiry
	// is after q.Now and that match q, skipping the first q.Offset, in the
	// order of Match.Rank, then most recently confirmed first, then by id.
	SearchListings(ctx context.Context, q SearchQuery) ([]Match, error)
	// ListingsDue returns the ids of up to limit approved or paused
	// listings whose expiry is at or before now.
	ListingsDue(ctx context.Context, now time.Time, limit int) ([]string, error)
	IntroStore
}

// Change is one change to the PA network as the Network hands it to its
// Store: the event it makes, who made it (a member of staff, ByOwner,
// ByEmployer or BySystem), when, and what it changed.
//
// A change to a listing (EventCreated ... EventExpiring) has Introduction
// nil and Listing the listing as it is after the change. A change to an
// introduction (EventIntroRequested ... EventIntroExpired) has
// Introduction the introduction as it is after the change, and Listing
// the listing it is about, as the store read it in the change's
// transaction (see IntroStore).
//
// Recording a change is the store's way of telling the rest of askpa of
// it durably: a store records each Change in the same transaction as the
// listing or introduction it is about, so a change is never stored
// without being recorded nor recorded without being stored; when
// recording fails, CreateListing, UpdateListing, CreateIntroduction or
// UpdateIntroduction fails and nothing is stored. What recording means is
// the store's business (sqlstore writes the outbox rows of signed webhook
// events and of the notices to the PA and the employer, see its
// SetListingEvents); a store that records nothing satisfies the contract.
// The listing and the introduction carry contact details (and the
// introduction the employer's note): whatever records them must drop
// them before telling anyone (Listing.Shared, Introduction.Shared), and
// whoever must be told them reads them from the store when it tells.
type Change struct {
	Event   string
	By      string
	At      time.Time
	Listing Listing
	// Introduction is the introduction an introduction event is about;
	// nil for a listing event.
	Introduction *Introduction
}

// ListingQuery selects listings for ListListings.
type ListingQuery struct {
	Status Status // empty for any
	Owner  string // empty for any
	Limit  int
	After  *Position
}

// Position is a place in the order of ListListings.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// SearchQuery is a search as the store runs it: everything parsed and
// folded already.
type SearchQuery struct {
	// District ("EX4") and PostcodeArea ("EX") rank listings covering the
	// same district first, then the same postcode area; Town (a TownKey,
	// "exeter") matches listings covering that town. When all three are
	// empty every area matches, with RankAnywhere.
	District, PostcodeArea, Town string
	// Service is a service id; empty for any.
	Service string
	// Words are stems (see Stem) that must each be among the listing's
	// SearchWords.
	Words         []string
	Now           time.Time
	Limit, Offset int
}

// Match is one search hit and how near it is.
type Match struct {
	Listing Listing
	Rank    int
}

// Ranks of a Match, nearest first.
const (
	RankDistrict     = 0 // covers the district searched for
	RankPostcodeArea = 1 // covers another district of the same postcode area
	RankTown         = 2 // covers the town searched for
	RankAnywhere     = 3 // the search named no area
)

// Config configures a Network. Store is required.
type Config struct {
	Store Store
	// Services is the service vocabulary; nil means DefaultVocabulary.
	Services *Vocabulary
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes listing ids; nil means UUIDv7 strings.
	NewID func() string
	// Logger receives one line per change, with ids but no text.
	Logger *slog.Logger
	// ExpireEvery is how often Run expires listings that are due, reminds
	// owners of listings about to expire and expires unanswered
	// introductions; zero means an hour. Search never shows a listing past
	// its expiry, whenever the sweep runs.
	ExpireEvery time.Duration
	// Notify, when set, is called after every change to a listing has been
	// stored, with the listing as it now is and the event (EventCreated,
	// EventSubmitted, EventApproved, EventRejected, EventPaused,
	// EventResumed, EventRenewed, EventExpired, EventWithdrawn,
	// EventEdited, and EventExpiring for the reminder ReminderBefore the
	// expiry), so that the owner can be told. It is called in the
	// goroutine that made the change, once for each change (a crash
	// between storing and calling loses the call), and should only queue
	// the work. The listing carries contact details: never log it. What
	// must not be lost goes through the Change the store records in the
	// same transaction instead (see Change); askpa serve tells owners in
	// Slack that way, not through Notify.
	//
	// Introductions have no such hook: each is told (to the listing's
	// owner, to the employer, to webhooks) only through the Change the
	// store records with it, so that a crash cannot lose the request or
	// its outcome.
	Notify func(ctx context.Context, l Listing, event string)
}

// Network is the PA network service: listings are created, moderated,
// paused, renewed, withdrawn and expired through it, and searched.
type Network struct {
	store Store
	vocab *Vocabulary
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	every time.Duration

	notify func(ctx context.Context, l Listing, event string)
}

// NewNetwork returns a Network for cfg. It fails when cfg.Store is nil. It
// starts nothing; call Run for the expiry sweep.
func NewNetwork(cfg Config) (*Network, error) {
	if cfg.Store == nil {
		return nil, errors.New("directory: NewNetwork needs a Store")
	}
	n := &Network{store: cfg.Store, vocab: cfg.Services, now: cfg.Now, newID: cfg.NewID, log: cfg.Logger, every: cfg.ExpireEvery,
		notify: cfg.Notify}
	if n.vocab == nil {
		n.vocab = DefaultVocabulary()
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.newID == nil {
		n.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.every <= 0 {
		n.every = time.Hour
	}
	return n, nil
}

// Services returns the service vocabulary.
func (n *Network) Services() *Vocabulary { return n.vocab }

// Check reports whether Draft and Edit would accept d, without storing
// anything: it returns nil, or the *InvalidError naming the first field at
// fault (contact details typed into free text included), exactly as they
// would. A channel uses it to answer a form at once.
func (n *Network) Check(d Details) error {
	return d.normalise(n.vocab) // d is a copy; normalise makes new slices
}

// Draft creates a draft listing for owner (the PA or micro-provider, as
// "slack:TEAM:USER") from d. It returns an *InvalidError naming the field
// when d breaks a rule, contact details in free text included.
func (n *Network) Draft(ctx context.Context, owner string, d Details) (Listing, error) {
	if strings.TrimSpace(owner) == "" {
		return Listing{}, invalid("owner", "is required")
	}
	if err := d.normalise(n.vocab); err != nil {
		return Listing{}, err
	}
	now := n.now().UTC()
	l := Listing{ID: n.newID(), Status: StatusDraft, Details: d, DisplayName: d.DisplayName(), Owner: owner,
		CreatedAt: now, UpdatedAt: now, Audit: []Action{{Who: ByOwner, What: "created as a draft", At: now}}}
	if err := n.store.CreateListing(ctx, Change{Event: EventCreated, By: ByOwner, At: now, Listing: l}); err != nil {
		return Listing{}, fmt.Errorf("create listing: %w", err)
	}
	n.changed(ctx, l, EventCreated, ByOwner)
	return l, nil
}

// AddByStaff creates a listing that staff took down for someone (who phoned
// in, say): it starts approved, for Lifetime, and the audit trail says who
// entered and approved it. It returns an *InvalidError naming the field
// when d breaks a rule.
func (n *Network) AddByStaff(ctx context.Context, staff string, d Details) (Listing, error) {
	if err := checkWho("staff", staff); err != nil {
		return Listing{}, err
	}
	if err := d.normalise(n.vocab); err != nil {
		return Listing{}, err
	}
	now := n.now().UTC()
	l := Listing{ID: n.newID(), Status: StatusPending, Details: d, DisplayName: d.DisplayName(),
		CreatedAt: now, UpdatedAt: now, Audit: []Action{{Who: staff, What: "entered by staff on the person's behalf", At: now}}}
	if _, err := approve(&l, staff, now); err != nil {
		return Listing{}, err
	}
	if err := n.store.CreateListing(ctx, Change{Event: EventApproved, By: staff, At: now, Listing: l}); err != nil {
		return Listing{}, fmt.Errorf("create listing: %w", err)
	}
	n.changed(ctx, l, EventApproved, staff)
	return l, nil
}

// Submit sends a draft or rejected listing for moderation. It returns
// ErrConflict from any other state and ErrNotFound for an unknown id.
func (n *Network) Submit(ctx context.Context, id, who string) (Listing, error) {
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return submit(l, who, now) })
}

// Approve publishes a pending listing for 90 days. It returns ErrConflict
// when the listing is not pending (another member of staff approved or
// rejected it first) and ErrNotFound for an unknown id.
func (n *Network) Approve(ctx context.Context, id, staff string) (Listing, error) {
	if err := checkWho("staff", staff); err != nil {
		return Listing{}, err
	}
	return n.move(ctx, id, staff, func(l *Listing, now time.Time) (string, error) { return approve(l, staff, now) })
}

// Reject turns down a pending listing with a reason for its owner (a
// published listing is taken down with Withdraw). It returns an *InvalidError ("reason")
// when the reason is empty or longer than MaxReasonLen, ErrConflict from
// any other state, and ErrNotFound for an unknown id.
func (n *Network) Reject(ctx context.Context, id, staff, reason string) (Listing, error) {
	if err := checkWho("staff", staff); err != nil {
		return Listing{}, err
	}
	reason = cleanLong(reason)
	switch {
	case reason == "":
		return Listing{}, invalid("reason", "is required: say why, so that the person can put it right")
	case len(reason) > MaxReasonLen:
		return Listing{}, invalid("reason", fmt.Sprintf("is longer than %d characters", MaxReasonLen))
	}
	return n.move(ctx, id, staff, func(l *Listing, now time.Time) (string, error) { return reject(l, staff, reason, now) })
}

// Pause hides an approved listing from search until it is resumed; its
// expiry does not change. It returns ErrConflict unless the listing is
// approved, and ErrNotFound for an unknown id.
func (n *Network) Pause(ctx context.Context, id, who string) (Listing, error) {
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return pause(l, who, now) })
}

// Resume shows a paused listing again. It returns ErrConflict unless the
// listing is paused, and ErrNotFound for an unknown id.
func (n *Network) Resume(ctx context.Context, id, who string) (Listing, error) {
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return resume(l, who, now) })
}

// Renew confirms a listing is still right and keeps it for 90 days from
// now; an expired listing is approved again (it was moderated and has not
// changed). It returns ErrConflict for a draft, pending, rejected or
// withdrawn listing, and ErrNotFound for an unknown id.
func (n *Network) Renew(ctx context.Context, id, who string) (Listing, error) {
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return renew(l, who, now) })
}

// Withdraw removes a listing for good; note says why and may be empty. It
// returns ErrConflict when it is withdrawn already and ErrNotFound for an
// unknown id.
func (n *Network) Withdraw(ctx context.Context, id, who, note string) (Listing, error) {
	note = clean(note)
	if len(note) > MaxReasonLen {
		return Listing{}, invalid("reason", fmt.Sprintf("is longer than %d characters", MaxReasonLen))
	}
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return withdraw(l, who, note, now) })
}

// Edit replaces what listing id says with d. A draft stays a draft; any
// other listing but a withdrawn one goes back to pending for moderation.
// It returns an *InvalidError naming the field when d breaks a rule,
// ErrConflict for a withdrawn listing and ErrNotFound for an unknown id.
func (n *Network) Edit(ctx context.Context, id, who string, d Details) (Listing, error) {
	if err := d.normalise(n.vocab); err != nil {
		return Listing{}, err
	}
	return n.move(ctx, id, who, func(l *Listing, now time.Time) (string, error) { return edit(l, who, d, now) })
}

// ExpireDue expires every approved or paused listing whose 90 days have
// run out and returns how many it expired. A listing renewed meanwhile (by
// another process) is left alone.
func (n *Network) ExpireDue(ctx context.Context) (int, error) {
	expired := 0
	for {
		now := n.now().UTC()
		ids, err := n.store.ListingsDue(ctx, now, 100)
		if err != nil {
			return expired, fmt.Errorf("expire listings: %w", err)
		}
		for _, id := range ids {
			_, err := n.move(ctx, id, BySystem, func(l *Listing, now time.Time) (string, error) { return expire(l, now) })
			switch {
			case err == nil:
				expired++
			case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			default:
				return expired, err
			}
		}
		if len(ids) < 100 {
			return expired, nil
		}
	}
}

// RemindDue reminds the owners of approved and paused listings that expire
// within ReminderBefore, through Config.Notify with EventExpiring, and
// returns how many it reminded. Each listing is reminded once a period
// (recorded in RemindedAt, in the same transaction), across processes.
func (n *Network) RemindDue(ctx context.Context) (int, error) {
	now := n.now().UTC()
	// Listings due for a reminder are those ListingsDue finds at the end
	// of the reminder window; those reminded already stay among them until
	// they expire or are renewed, and come first (they expire sooner).
	ids, err := n.store.ListingsDue(ctx, now.Add(ReminderBefore), maxReminderScan)
	if err != nil {
		return 0, fmt.Errorf("remind listings: %w", err)
	}
	reminded := 0
	for _, id := range ids {
		l, err := n.store.GetListing(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return reminded, fmt.Errorf("remind listings: %w", err)
		case l.Reminded() || now.Before(l.ExpiresAt.Add(-ReminderBefore)):
			continue // reminded already this period, or not due yet
		}
		_, err = n.move(ctx, id, BySystem, func(l *Listing, now time.Time) (string, error) { return remind(l, now) })
		switch {
		case err == nil:
			reminded++
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
		default:
			return reminded, err
		}
	}
	return reminded, nil
}

// maxReminderScan bounds the listings one reminder sweep looks at: more
// than a network expects to fall due in ReminderBefore.
const maxReminderScan = 5000

// Run sweeps every Config.ExpireEvery until ctx ends, and returns nil
// then: it expires due listings (ExpireDue), reminds owners of listings
// about to expire (RemindDue) and expires unanswered introductions
// (ExpireIntroductions). A failed sweep is logged and tried again next
// time.
func (n *Network) Run(ctx context.Context) error {
	t := time.NewTicker(n.every)
	defer t.Stop()
	for {
		if k, err := n.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			n.log.WarnContext(ctx, "listing expiry failed", slog.String("error", err.Error()))
		} else if k > 0 {
			n.log.InfoContext(ctx, "listings expired", slog.Int("count", k))
		}
		if k, err := n.RemindDue(ctx); err != nil && ctx.Err() == nil {
			n.log.WarnContext(ctx, "listing reminders failed", slog.String("error", err.Error()))
		} else if k > 0 {
			n.log.InfoContext(ctx, "listing owners reminded", slog.Int("count", k))
		}
		if ins, err := n.ExpireIntroductions(ctx); err != nil && ctx.Err() == nil {
			n.log.WarnContext(ctx, "introduction expiry failed", slog.String("error", err.Error()))
		} else if len(ins) > 0 {
			n.log.InfoContext(ctx, "introductions expired", slog.Int("count", len(ins)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Get returns listing id, contact details and audit trail included (for
// staff and the listing's owner only), or ErrNotFound.
func (n *Network) Get(ctx context.Context, id string) (Listing, error) {
	l, err := n.store.GetListing(ctx, id)
	if err != nil {
		return Listing{}, fmt.Errorf("get listing: %w", err)
	}
	return l, nil
}

func (n *Network) move(ctx context.Context, id, who string, do func(*Listing, time.Time) (string, error)) (Listing, error) {
	if err := checkWho("who", who); err != nil {
		return Listing{}, err
	}
	var ev string
	l, err := n.store.UpdateListing(ctx, id, func(l *Listing) (Change, error) {
		now := n.now().UTC()
		var err error
		if ev, err = do(l, now); err != nil {
			return Change{}, err
		}
		return Change{Event: ev, By: who, At: now}, nil
	})
	if err != nil {
		return Listing{}, fmt.Errorf("change listing: %w", err)
	}
	n.changed(ctx, l, ev, who)
	return l, nil
}

// changed logs a change to l and tells Config.Notify of it.
func (n *Network) changed(ctx context.Context, l Listing, ev, who string) {
	n.logChange(ctx, l, ev, who)
	if n.notify != nil {
		n.notify(ctx, l, ev)
	}
}

func (n *Network) logChange(ctx context.Context, l Listing, ev, who string) {
	by := "staff"
	if who == ByOwner || who == BySystem {
		by = who
	}
	n.log.LogAttrs(ctx, slog.LevelInfo, "listing changed", slog.String("listing", l.ID),
		slog.String("event", ev), slog.String("status", string(l.Status)), slog.String("by", by))
}

func checkWho(field, who string) error {
	switch {
	case strings.TrimSpace(who) == "":
		return invalid(field, "is required")
	case len(who) > 200:
		return invalid(field, "is too long")
	}
	return nil
}

// Page is one page of ListListings.
type Page struct {
	Listings []Listing
	// Next is the cursor of the following page, empty on the last one.
	Next string
}

// ListRequest asks for one page of listings.
type ListRequest struct {
	Status Status // empty for every state
	Owner  string // empty for every owner
	Limit  int    // 0 means DefaultListLimit; at most MaxListLimit
	Cursor string // from a previous Page.Next
}

// Limits of one page.
const (
	DefaultListLimit   = 50
	MaxListLimit       = 200
	DefaultSearchLimit = 20
	MaxSearchLimit     = 50
)

// List returns one page of listings, oldest first: with status pending,
// the moderation queue. It returns an *InvalidError naming the field for
// an unknown status, a limit out of range or a cursor it did not make.
func (n *Network) List(ctx context.Context, r ListRequest) (Page, error) {
	switch {
	case r.Status != "" && !r.Status.Valid():
		return Page{}, invalid("status", "must be one of draft, pending, approved, rejected, paused, expired, withdrawn")
	case r.Limit < 0 || r.Limit > MaxListLimit:
		return Page{}, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxListLimit))
	}
	if r.Limit == 0 {
		r.Limit = DefaultListLimit
	}
	q := ListingQuery{Status: r.Status, Owner: r.Owner, Limit: r.Limit + 1}
	if r.Cursor != "" {
		p, err := decodeCursor(r.Cursor)
		if err != nil {
			return Page{}, invalid("cursor", "is not one this service made")
		}
		q.After = &p
	}
	ls, err := n.store.ListListings(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("list listings: %w", err)
	}
	var p Page
	if len(ls) > r.Limit {
		ls = ls[:r.Limit]
		last := ls[len(ls)-1]
		p.Next = encodeCursor(Position{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	p.Listings = ls
	return p, nil
}

type cursor struct {
	T int64  `json:"t"`
	I string `json:"i"`
}

func encodeCursor(p Position) string {
	b, _ := json.Marshal(cursor{p.CreatedAt.UnixNano(), p.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, err
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return Position{}, err
	}
	if c.I == "" {
		return Position{}, errors.New("bad cursor")
	}
	return Position{CreatedAt: time.Unix(0, c.T).UTC(), ID: c.I}, nil
}

// Notice is said with every list of results.
const Notice = "The PAs and micro-providers listed here are not employed or vetted by the council or the support service. " +
	"What they say about their experience, training and DBS checks is their own and has not been checked: " +
	"before you employ anyone, check their right to work, take up references, see their certificates and do a DBS check."

// SearchRequest is a search as a person asks it.
type SearchRequest struct {
	// Area is a postcode district ("EX4"), a full postcode (only its
	// district is used), a town ("Exeter"), or a district and a town
	// ("EX4, Exeter"); empty for anywhere.
	Area string
	// Service is a service id or label ("personal care"); empty for any.
	Service string
	// Q is free text looked for in what listings say about themselves,
	// their experience and training; every word (but a few such as "and"
	// and "with") must be there, in any form ("lifting" finds "lift").
	Q      string
	Limit  int // 0 means DefaultSearchLimit; at most MaxSearchLimit
	Offset int // results to skip, for "More"
}

// Result is one listing as the public sees it. It has no contact details,
// no owner and no audit trail.
type Result struct {
	ID               string     `json:"id"`
	Kind             Kind       `json:"kind"`
	DisplayName      string     `json:"display_name"`
	Areas            []string   `json:"areas"`
	Services         []Service  `json:"services"`
	Availability     string     `json:"availability,omitempty"`
	Languages        []string   `json:"languages"`
	About            string     `json:"about,omitempty"`
	Experience       string     `json:"experience,omitempty"`
	Training         []string   `json:"training"`
	DBSUpdateService bool       `json:"dbs_update_service"`
	HourlyRatePence  *int       `json:"hourly_rate_pence,omitempty"`
	Employment       Employment `json:"employment,omitempty"`
	ConfirmedAt      time.Time  `json:"confirmed_at"`
	// Match says how near it is: "district", "postcode-area", "town" or
	// "anywhere".
	Match string `json:"match"`
	// SelfDeclared is always true: experience, training and DBS status
	// are the listing's own word.
	SelfDeclared bool `json:"self_declared"`
}

// Results is one page of search results.
type Results struct {
	Listings []Result
	// More is true when there are more results after these.
	More bool
	// Notice is the trust and safety notice to show with them.
	Notice string
}

var matchNames = [...]string{RankDistrict: "district", RankPostcodeArea: "postcode-area", RankTown: "town", RankAnywhere: "anywhere"}

// Search returns approved, unexpired listings matching r, nearest first
// (the same district, then the same postcode area, then the town), then
// the most recently confirmed. It returns an *InvalidError naming the
// field for an area that is neither a UK postcode district nor a town
// ("area"), an unknown service ("service"), free text longer than 200
// characters ("q"), or a limit or offset out of range.
func (n *Network) Search(ctx context.Context, r SearchRequest) (Results, error) {
	q, err := n.parseSearch(r)
	if err != nil {
		return Results{}, err
	}
	limit := q.Limit
	q.Limit++
	ms, err := n.store.SearchListings(ctx, q)
	if err != nil {
		return Results{}, fmt.Errorf("search listings: %w", err)
	}
	res := Results{Listings: []Result{}, Notice: Notice}
	if len(ms) > limit {
		ms, res.More = ms[:limit], true
	}
	for _, m := range ms {
		res.Listings = append(res.Listings, n.result(m))
	}
	return res, nil
}

func (n *Network) result(m Match) Result {
	l := m.Listing
	r := Result{ID: l.ID, Kind: l.Kind, DisplayName: l.DisplayName, Areas: l.Areas, Availability: l.Availability,
		Languages: l.Languages, About: l.About, Experience: l.Experience, Training: l.Training,
		DBSUpdateService: l.DBSUpdateService, HourlyRatePence: l.HourlyRatePence, Employment: l.Employment,
		ConfirmedAt: l.ConfirmedAt, Match: "anywhere", SelfDeclared: true, Services: []Service{}}
	if m.Rank >= 0 && m.Rank < len(matchNames) {
		r.Match = matchNames[m.Rank]
	}
	for _, id := range l.Services {
		r.Services = append(r.Services, Service{ID: id, Label: n.vocab.Label(id)})
	}
	if r.Languages == nil {
		r.Languages = []string{}
	}
	if r.Training == nil {
		r.Training = []string{}
	}
	return r
}

// stopWords are left out of free-text search: every remaining word must
// appear in a listing.
var stopWords = map[string]bool{"a": true, "an": true, "and": true, "the": true, "with": true, "for": true,
	"of": true, "in": true, "on": true, "to": true, "who": true, "can": true, "or": true, "is": true, "has": true,
	"have": true, "pa": true, "carer": true, "someone": true}

func (n *Network) parseSearch(r SearchRequest) (SearchQuery, error) {
	q := SearchQuery{Now: n.now().UTC(), Limit: r.Limit, Offset: r.Offset}
	switch {
	case r.Limit < 0 || r.Limit > MaxSearchLimit:
		return q, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxSearchLimit))
	case r.Offset < 0 || r.Offset > 10000:
		return q, invalid("offset", "must be between 0 and 10000")
	case len(r.Q) > 200:
		return q, invalid("q", "is longer than 200 characters")
	case len(r.Area) > 100:
		return q, invalid("area", "is longer than 100 characters")
	}
	if q.Limit == 0 {
		q.Limit = DefaultSearchLimit
	}
	if area := clean(r.Area); area != "" {
		as, ok := parseSearchArea(area)
		if !ok {
			return q, invalid("area", fmt.Sprintf("%q is not a UK postcode district (such as EX4, TQ12, SW1A or M1) or a town name", area))
		}
		for _, a := range as {
			if a.District != "" {
				q.District, q.PostcodeArea = a.District, a.PostcodeArea()
			} else {
				q.Town = a.TownKey()
			}
		}
	}
	if s := clean(r.Service); s != "" {
		id, ok := n.vocab.Lookup(s)
		if !ok {
			return q, invalid("service", fmt.Sprintf("%q is not one of the services: %s", s, strings.Join(n.vocab.ids(), ", ")))
		}
		q.Service = id
	}
	seen := map[string]bool{}
	for _, w := range splitWords(r.Q) {
		st := Stem(w)
		if st == "" || stopWords[w] || seen[st] || len(q.Words) == 8 {
			continue
		}
		seen[st] = true
		q.Words = append(q.Words, st)
	}
	return q, nil
}

// parseSearchArea reads a search's area: one area, or a district and a town
// ("EX4, Exeter" or "EX4 Exeter").
func parseSearchArea(s string) ([]Area, bool) {
	if a, ok := ParseArea(s); ok {
		return []Area{a}, true
	}
	var parts []string
	if strings.Contains(s, ",") {
		parts = strings.SplitN(s, ",", 2)
	} else if first, rest, ok := strings.Cut(s, " "); ok {
		parts = []string{first, rest}
	} else {
		return nil, false
	}
	a, ok1 := ParseArea(parts[0])
	b, ok2 := ParseArea(parts[1])
	if !ok1 || !ok2 || (a.District == "") == (b.District == "") {
		return nil, false
	}
	return []Area{a, b}, true
}
