package directory

import (
	"fmt"
	"time"
)

// Event names: one for each change of state, as recorded with the change
// (Change) and told to Config.Notify; askpa serve sends each to webhooks
// as a signed event of the same name and tells the listing's owner of it.
// A listing staff enter (AddByStaff) starts with EventApproved; a listing
// edited after it left draft goes back to moderation with EventSubmitted.
const (
	EventSubmitted = "listing.submitted"
	EventApproved  = "listing.approved"
	EventRejected  = "listing.rejected"
	EventPaused    = "listing.paused"
	EventResumed   = "listing.resumed"
	EventRenewed   = "listing.renewed"
	EventExpired   = "listing.expired"
	EventWithdrawn = "listing.withdrawn"
	EventEdited    = "listing.edited"
	// EventCreated is a new draft.
	EventCreated = "listing.created"
	// EventExpiring is the reminder, ReminderBefore the expiry, that a
	// listing will expire unless renewed.
	EventExpiring = "listing.expiring"
)

// ReminderBefore is how long before its expiry the owner of a listing is
// reminded to renew it.
const ReminderBefore = 7 * 24 * time.Hour

// Lifetime is how long an approval or renewal lasts: a listing not renewed
// within it expires.
const Lifetime = 90 * 24 * time.Hour

// The state machine. Every change a listing can go through is one of the
// functions below; each checks the move is legal, changes l, records the
// audit entry and returns the event it makes. Nothing else changes a
// listing's status. An illegal move returns ErrConflict, wrapped with the
// move and the listing's state.

func conflict(move string, l *Listing) error {
	return fmt.Errorf("%s listing %s (%s): %w", move, l.ID, l.Status, ErrConflict)
}

// submit sends a draft, or a rejected listing that has been edited, for
// moderation.
func submit(l *Listing, who string, now time.Time) (string, error) {
	if l.Status != StatusDraft && l.Status != StatusRejected {
		return "", conflict("submit", l)
	}
	l.Status, l.Reason = StatusPending, ""
	touch(l, who, "submitted for moderation", now)
	return EventSubmitted, nil
}

// approve publishes a pending listing for Lifetime.
func approve(l *Listing, who string, now time.Time) (string, error) {
	if l.Status != StatusPending {
		return "", conflict("approve", l)
	}
	l.Status, l.Reason = StatusApproved, ""
	l.ConfirmedAt, l.ExpiresAt = now, now.Add(Lifetime)
	touch(l, who, "approved", now)
	return EventApproved, nil
}

// reject turns down a pending listing with a reason its owner will be told.
// (Staff take down a published listing by withdrawing it.)
func reject(l *Listing, who, reason string, now time.Time) (string, error) {
	if l.Status != StatusPending {
		return "", conflict("reject", l)
	}
	l.Status, l.Reason = StatusRejected, reason
	touch(l, who, "rejected: "+reason, now)
	return EventRejected, nil
}

// pause hides an approved listing from search without losing its place.
func pause(l *Listing, who string, now time.Time) (string, error) {
	if l.Status != StatusApproved {
		return "", conflict("pause", l)
	}
	l.Status = StatusPaused
	touch(l, who, "paused", now)
	return EventPaused, nil
}

// resume shows a paused listing again; it keeps its expiry.
func resume(l *Listing, who string, now time.Time) (string, error) {
	if l.Status != StatusPaused {
		return "", conflict("resume", l)
	}
	l.Status = StatusApproved
	touch(l, who, "resumed", now)
	return EventResumed, nil
}

// renew confirms an approved, paused or expired listing is still right: it
// is approved again (a paused one stays paused) for Lifetime from now.
func renew(l *Listing, who string, now time.Time) (string, error) {
	switch l.Status {
	case StatusApproved, StatusPaused:
	case StatusExpired:
		l.Status = StatusApproved
	default:
		return "", conflict("renew", l)
	}
	l.ConfirmedAt, l.ExpiresAt = now, now.Add(Lifetime)
	touch(l, who, "renewed until "+l.ExpiresAt.Format("2 January 2006"), now)
	return EventRenewed, nil
}

// expire ends an approved or paused listing whose time has run out.
func expire(l *Listing, now time.Time) (string, error) {
	if (l.Status != StatusApproved && l.Status != StatusPaused) || now.Before(l.ExpiresAt) {
		return "", conflict("expire", l)
	}
	l.Status = StatusExpired
	touch(l, BySystem, "expired: not renewed within 90 days", now)
	return EventExpired, nil
}

// withdraw removes a listing for good, from any state but withdrawn.
func withdraw(l *Listing, who, note string, now time.Time) (string, error) {
	if l.Status == StatusWithdrawn {
		return "", conflict("withdraw", l)
	}
	l.Status = StatusWithdrawn
	what := "withdrawn"
	if note != "" {
		what += ": " + note
	}
	touch(l, who, what, now)
	return EventWithdrawn, nil
}

// edit replaces what a listing says. A draft stays a draft; an edited
// pending, approved, paused, rejected or expired listing goes back to
// pending, because what the public sees must have been moderated.
func edit(l *Listing, who string, d Details, now time.Time) (string, error) {
	if l.Status == StatusWithdrawn {
		return "", conflict("edit", l)
	}
	l.Details, l.DisplayName = d, d.DisplayName()
	if l.Status == StatusDraft {
		touch(l, who, "edited", now)
		return EventEdited, nil
	}
	l.Status, l.Reason = StatusPending, ""
	touch(l, who, "edited; sent for moderation again", now)
	return EventSubmitted, nil
}

func touch(l *Listing, who, what string, now time.Time) {
	l.UpdatedAt = now
	l.Audit = append(l.Audit, Action{Who: who, What: what, At: now})
}

// remind records that the owner of an approved or paused listing has been
// reminded, within ReminderBefore of its expiry, to renew it: once a
// period (see Listing.Reminded). It changes neither the status nor
// UpdatedAt.
func remind(l *Listing, now time.Time) (string, error) {
	due := (l.Status == StatusApproved || l.Status == StatusPaused) &&
		!now.Before(l.ExpiresAt.Add(-ReminderBefore)) && now.Before(l.ExpiresAt) && !l.Reminded()
	if !due {
		return "", conflict("remind", l)
	}
	l.RemindedAt = now
	l.Audit = append(l.Audit, Action{Who: BySystem, What: "reminded to renew: expires on " + l.ExpiresAt.Format("2 January 2006"), At: now})
	return EventExpiring, nil
}
