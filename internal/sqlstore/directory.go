package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// This file implements directory.Store: the PA network's listings.

// ListingEvents turns one change to a listing into the outbox rows that
// tell it (support.ListingDeliveries); see Store.SetListingEvents. An
// error fails the change.
type ListingEvents func(directory.Change) ([]support.Delivery, error)

// SetListingEvents makes the store record every change to the PA
// network (directory.Change: a listing's, or an introduction's) by writing
// the outbox rows f returns for it, in the transaction that stores the
// change: a change is never stored without its events, nor its events
// written without the change. When f
// fails, the change fails and nothing is stored. Until it is called (or
// with f nil) changes write no outbox rows. Call it before the store is
// used; askpa serve gives it WebhookListingEvents of the dispatcher's
// targets.
func (s *Store) SetListingEvents(f func(directory.Change) ([]support.Delivery, error)) {
	if f == nil {
		s.listingEvents.Store(nil)
		return
	}
	e := ListingEvents(f)
	s.listingEvents.Store(&e)
}

// WebhookListingEvents returns the ListingEvents that tell each change to
// targets as a signed listing event (see support.ListingDeliveries) or,
// for a change to an introduction, a signed introduction event (see
// support.IntroductionDeliveries): the event's name is the change's, By
// who made it (the member of staff, as in escalation events, or "owner",
// "employer" or "askpa"), Listing the listing without contact details
// (directory.Listing.Shared) and Introduction the introduction without
// the employer, their note or contact details
// (directory.Introduction.Shared). newID makes delivery ids; nil means
// UUIDv7 strings.
func WebhookListingEvents(targets []support.Target, newID func() string) ListingEvents {
	targets = slices.Clone(targets)
	return func(c directory.Change) ([]support.Delivery, error) {
		body, err := json.Marshal(c.Listing.Shared())
		if err != nil {
			return nil, fmt.Errorf("listing event: %w", err)
		}
		ev := support.Event{Name: c.Event, At: c.At, By: c.By, Listing: body}
		if c.Introduction == nil {
			return support.ListingDeliveries(targets, c.Listing.ID, ev, newID), nil
		}
		if ev.Introduction, err = json.Marshal(c.Introduction.Shared()); err != nil {
			return nil, fmt.Errorf("introduction event: %w", err)
		}
		return support.IntroductionDeliveries(targets, c.Introduction.ListingID, ev, newID), nil
	}
}

// recordListing writes the outbox rows of c, if the store records
// listing changes.
func (s *Store) recordListing(ctx context.Context, q Querier, c directory.Change) error {
	f := s.listingEvents.Load()
	if f == nil {
		return nil
	}
	out, err := (*f)(c)
	if err != nil {
		return err
	}
	return insertOutbox(ctx, q, out)
}

// CreateListing inserts c.Listing with its areas and services and records
// c; see directory.Store.
func (s *Store) CreateListing(ctx context.Context, c directory.Change) error {
	l := c.Listing
	return s.db.InTx(ctx, func(q Querier) error {
		var n int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM listings WHERE id = ?`, l.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("listing %q: %w", l.ID, directory.ErrConflict)
		}
		doc, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO listings (id, status, owner, created_at, updated_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			l.ID, string(l.Status), l.Owner, nanos(l.CreatedAt), nanos(l.UpdatedAt), nanos(l.ExpiresAt), string(doc))
		if err != nil {
			return fmt.Errorf("insert listing: %w", err)
		}
		if err := writeSearchRows(ctx, q, l, false); err != nil {
			return err
		}
		return s.recordListing(ctx, q, c)
	})
}

// writeSearchRows makes the search index rows of l (listing_live,
// listing_areas, listing_services) what they should be: l's when it is
// approved, none otherwise. existing says l may have rows already.
func writeSearchRows(ctx context.Context, q Querier, l directory.Listing, existing bool) error {
	if existing {
		for _, t := range []string{"listing_live", "listing_areas", "listing_services", "listing_words"} {
			if _, err := q.Exec(ctx, `DELETE FROM `+t+` WHERE listing_id = ?`, l.ID); err != nil {
				return err
			}
		}
	}
	if l.Status != directory.StatusApproved {
		return nil
	}
	conf, exp := nanos(l.ConfirmedAt), nanos(l.ExpiresAt)
	if _, err := q.Exec(ctx, `INSERT INTO listing_live (listing_id, confirmed_at, expires_at) VALUES (?, ?, ?)`, l.ID, conf, exp); err != nil {
		return fmt.Errorf("insert listing search row: %w", err)
	}
	if err := insertMany(ctx, q, `INSERT INTO listing_words (listing_id, word) VALUES `, l.ID, l.SearchWords()); err != nil {
		return fmt.Errorf("insert listing words: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range l.ParsedAreas() {
		key, parea := "town:"+a.TownKey(), ""
		if a.District != "" {
			key, parea = a.District, a.PostcodeArea()
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, err := q.Exec(ctx, `INSERT INTO listing_areas (listing_id, area, parea, confirmed_at, expires_at) VALUES (?, ?, ?, ?, ?)`, l.ID, key, parea, conf, exp); err != nil {
			return fmt.Errorf("insert listing area: %w", err)
		}
	}
	for _, svc := range l.Services {
		if seen["svc:"+svc] {
			continue
		}
		seen["svc:"+svc] = true
		if _, err := q.Exec(ctx, `INSERT INTO listing_services (listing_id, service) VALUES (?, ?)`, l.ID, svc); err != nil {
			return fmt.Errorf("insert listing service: %w", err)
		}
	}
	return nil
}

// UpdateListing changes one listing in a transaction and records the
// change; see directory.Store.
func (s *Store) UpdateListing(ctx context.Context, id string, change func(*directory.Listing) (directory.Change, error)) (directory.Listing, error) {
	var l directory.Listing
	err := s.db.InTx(ctx, func(q Querier) error {
		var err error
		if l, err = loadListing(ctx, q, id, s.d.ForUpdate); err != nil {
			return err
		}
		before := searchKey(l)
		c, err := change(&l)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `UPDATE listings SET status = ?, owner = ?, updated_at = ?, expires_at = ? , doc = ? WHERE id = ?`,
			string(l.Status), l.Owner, nanos(l.UpdatedAt), nanos(l.ExpiresAt), string(doc), l.ID)
		if err != nil {
			return fmt.Errorf("update listing: %w", err)
		}
		if searchKey(l) != before {
			if err := writeSearchRows(ctx, q, l, true); err != nil {
				return err
			}
		}
		c.Listing = l
		return s.recordListing(ctx, q, c)
	})
	if err != nil {
		return directory.Listing{}, err
	}
	return l, nil
}

// insertMany inserts (id, value) rows, up to 100 a statement.
func insertMany(ctx context.Context, q Querier, insert, id string, values []string) error {
	for len(values) > 0 {
		n := min(len(values), 100)
		args := make([]any, 0, 2*n)
		for _, v := range values[:n] {
			args = append(args, id, v)
		}
		if _, err := q.Exec(ctx, insert+"(?, ?)"+strings.Repeat(", (?, ?)", n-1), args...); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// searchKey changes whenever the search rows of l would.
func searchKey(l directory.Listing) string {
	return fmt.Sprint(l.Status, l.ConfirmedAt.UnixNano(), l.ExpiresAt.UnixNano(), l.Areas, l.Services, l.SearchText())
}

func loadListing(ctx context.Context, q Querier, id, lock string) (directory.Listing, error) {
	return loadDoc[directory.Listing](ctx, q, "listings", "listing", id, lock)
}

// loadDoc reads the JSON document of row id of table (listings,
// introductions), locked when lock is the dialect's ForUpdate. It returns
// directory.ErrNotFound, naming what and id, when there is none.
func loadDoc[T any](ctx context.Context, q Querier, table, what, id, lock string) (T, error) {
	var v T
	var doc string
	err := q.QueryRow(ctx, `SELECT doc FROM `+table+` WHERE id = ?`+lock, id).Scan(&doc)
	if errors.Is(err, ErrNoRows) {
		return v, fmt.Errorf("%s %q: %w", what, id, directory.ErrNotFound)
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("%s %q: stored document: %w", what, id, err)
	}
	return v, nil
}

// GetListing returns one listing; see directory.Store.
func (s *Store) GetListing(ctx context.Context, id string) (directory.Listing, error) {
	return loadListing(ctx, s.db, id, "")
}

// ListListings returns one page of listings, oldest first; see
// directory.Store.
func (s *Store) ListListings(ctx context.Context, lq directory.ListingQuery) ([]directory.Listing, error) {
	var where []string
	var args []any
	if lq.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(lq.Status))
	}
	if lq.Owner != "" {
		where = append(where, "owner = ?")
		args = append(args, lq.Owner)
	}
	if a := lq.After; a != nil {
		where = append(where, "(created_at > ? OR (created_at = ? AND id > ?))")
		args = append(args, nanos(a.CreatedAt), nanos(a.CreatedAt), a.ID)
	}
	query := `SELECT doc FROM listings`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at, id LIMIT ?"
	args = append(args, lq.Limit)
	return queryListings(ctx, s.db, query, args)
}

// SearchListings runs a search; see directory.Store. It finds the page of
// ids in the narrow search rows first and reads only those documents.
func (s *Store) SearchListings(ctx context.Context, sq directory.SearchQuery) ([]directory.Match, error) {
	var query string
	var args, filterArgs []any
	var filters []string
	if sq.Service != "" {
		filters = append(filters, "IN (SELECT listing_id FROM listing_services WHERE service = ?)")
		filterArgs = append(filterArgs, sq.Service)
	}
	for _, w := range sq.Words {
		filters = append(filters, "IN (SELECT listing_id FROM listing_words WHERE word = ?)")
		filterArgs = append(filterArgs, w)
	}
	if sq.District == "" && sq.Town == "" {
		query = fmt.Sprintf(`SELECT v.listing_id, %d, v.confirmed_at FROM listing_live v WHERE v.expires_at > ?`, directory.RankAnywhere)
		args = append(args, nanos(sq.Now))
		for _, f := range filters {
			query += " AND v.listing_id " + f
		}
		query += ` ORDER BY v.confirmed_at DESC, v.listing_id LIMIT ? OFFSET ?`
	} else {
		rank := fmt.Sprint(directory.RankTown)
		var areaOr []string
		var areaArgs []any
		if sq.District != "" {
			rank = fmt.Sprintf("MIN(CASE WHEN a.area = ? THEN %d WHEN a.parea = ? THEN %d ELSE %d END)", directory.RankDistrict, directory.RankPostcodeArea, directory.RankTown)
			args = append(args, sq.District, sq.PostcodeArea)
			areaOr = append(areaOr, "a.area = ?", "a.parea = ?")
			areaArgs = append(areaArgs, sq.District, sq.PostcodeArea)
		}
		if sq.Town != "" {
			areaOr = append(areaOr, "a.area = ?")
			areaArgs = append(areaArgs, "town:"+sq.Town)
		}
		query = `SELECT a.listing_id, ` + rank + ` AS rnk, MAX(a.confirmed_at) AS conf FROM listing_areas a WHERE (` +
			strings.Join(areaOr, " OR ") + `) AND a.expires_at > ?`
		args = append(append(args, areaArgs...), nanos(sq.Now))
		for _, f := range filters {
			query += " AND a.listing_id " + f
		}
		query += ` GROUP BY a.listing_id ORDER BY rnk, conf DESC, a.listing_id LIMIT ? OFFSET ?`
	}
	args = append(append(args, filterArgs...), sq.Limit, sq.Offset)
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search listings: %w", err)
	}
	var out []directory.Match
	var ids []any
	for rows.Next() {
		var m directory.Match
		var conf int64
		if err := rows.Scan(&m.Listing.ID, &m.Rank, &conf); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, m)
		ids = append(ids, m.Listing.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return out, err
	}
	ls, err := queryListings(ctx, s.db, `SELECT doc FROM listings WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, ids)
	if err != nil {
		return nil, fmt.Errorf("search listings: %w", err)
	}
	byID := make(map[string]directory.Listing, len(ls))
	for _, l := range ls {
		byID[l.ID] = l
	}
	found := out[:0]
	for _, m := range out {
		if l, ok := byID[m.Listing.ID]; ok {
			m.Listing = l
			found = append(found, m)
		}
	}
	return found, nil
}

// ListingsDue returns the ids of listings due to expire; see
// directory.Store.
func (s *Store) ListingsDue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return queryIDs(ctx, s.db, `SELECT id FROM listings WHERE status IN ('approved', 'paused') AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, nanos(now), limit)
}

func queryListings(ctx context.Context, q Querier, query string, args []any) ([]directory.Listing, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []directory.Listing
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var l directory.Listing
		if err := json.Unmarshal([]byte(doc), &l); err != nil {
			return nil, fmt.Errorf("listing: stored document: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// CreateIntroduction inserts an introduction request after checking the
// employer's daily limit and waiting requests, and records the change;
// see directory.IntroStore.
func (s *Store) CreateIntroduction(ctx context.Context, c directory.Change, limit int, since time.Time) error {
	if c.Introduction == nil {
		return errors.New("create introduction: the change has no introduction")
	}
	in := *c.Introduction
	doc, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(q Querier) error {
		// Serialise the employer's requests on their quota row. The upsert
		// locks the row whether it makes it or finds it, and makes it
		// afresh if the retention purge deletes it meanwhile (its
		// "introduction quota" step), so the lock is never on a row gone.
		if _, err := q.Exec(ctx, `INSERT INTO introduction_quota (employer) VALUES (?)
			ON CONFLICT (employer) DO UPDATE SET employer = excluded.employer`, in.Employer); err != nil {
			return err
		}
		var recent, waiting int
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM introductions WHERE employer = ? AND created_at > ?`, in.Employer, nanos(since)).Scan(&recent); err != nil {
			return err
		}
		if recent >= limit {
			return fmt.Errorf("introduction for %s: %w", in.ListingID, directory.ErrRateLimited)
		}
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM introductions WHERE listing_id = ? AND employer = ? AND status = 'requested'`, in.ListingID, in.Employer).Scan(&waiting); err != nil {
			return err
		}
		if waiting > 0 {
			return fmt.Errorf("introduction for %s: one is waiting already: %w", in.ListingID, directory.ErrConflict)
		}
		if _, err := q.Exec(ctx, `INSERT INTO introductions (id, listing_id, employer, status, created_at, updated_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.ListingID, in.Employer, string(in.Status), nanos(in.CreatedAt), nanos(updatedAt(in)), nanos(in.ExpiresAt), string(doc)); err != nil {
			return err
		}
		return s.recordIntroduction(ctx, q, c, in)
	})
}

// recordIntroduction records c, a change to introduction in, with the
// listing it is about as read in the transaction of q (only its id when
// it cannot be found, so that the employer is still told).
func (s *Store) recordIntroduction(ctx context.Context, q Querier, c directory.Change, in directory.Introduction) error {
	if s.listingEvents.Load() == nil {
		return nil
	}
	l, err := loadListing(ctx, q, in.ListingID, "")
	switch {
	case errors.Is(err, directory.ErrNotFound):
		l = directory.Listing{ID: in.ListingID}
	case err != nil:
		return err
	}
	c.Introduction, c.Listing = &in, l
	return s.recordListing(ctx, q, c)
}

// UpdateIntroduction changes one introduction in a transaction and
// records the change; see directory.IntroStore.
func (s *Store) UpdateIntroduction(ctx context.Context, id string, change func(*directory.Introduction) (directory.Change, error)) (directory.Introduction, error) {
	var in directory.Introduction
	err := s.db.InTx(ctx, func(q Querier) error {
		var err error
		if in, err = loadIntroduction(ctx, q, id, s.d.ForUpdate); err != nil {
			return err
		}
		c, err := change(&in)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(in)
		if err != nil {
			return err
		}
		if _, err = q.Exec(ctx, `UPDATE introductions SET status = ?, updated_at = ?, expires_at = ?, doc = ? WHERE id = ?`,
			string(in.Status), nanos(updatedAt(in)), nanos(in.ExpiresAt), string(doc), in.ID); err != nil {
			return err
		}
		return s.recordIntroduction(ctx, q, c, in)
	})
	if err != nil {
		return directory.Introduction{}, err
	}
	return in, nil
}

// updatedAt is the time of in's last change as its row keeps it (the
// column the retention purge compares): its UpdatedAt, or CreatedAt when
// that was not set.
func updatedAt(in directory.Introduction) time.Time {
	if in.UpdatedAt.IsZero() {
		return in.CreatedAt
	}
	return in.UpdatedAt
}

func loadIntroduction(ctx context.Context, q Querier, id, lock string) (directory.Introduction, error) {
	return loadDoc[directory.Introduction](ctx, q, "introductions", "introduction", id, lock)
}

// GetIntroduction returns one introduction; see directory.IntroStore.
func (s *Store) GetIntroduction(ctx context.Context, id string) (directory.Introduction, error) {
	return loadIntroduction(ctx, s.db, id, "")
}

// IntroductionsDue returns the ids of requests past their wait; see
// directory.IntroStore.
func (s *Store) IntroductionsDue(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return queryIDs(ctx, s.db, `SELECT id FROM introductions WHERE status = 'requested' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, nanos(now), limit)
}
