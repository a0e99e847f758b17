// Package retention says how long askpa keeps what it stores, and runs the
// purge that removes what is older. It is core: it imports no SDK and no SQL
// driver. The store does the deleting (Store.Purge, implemented by
// sqlite and postgres); a Runner calls it every hour in
// "askpa serve"; cmd/askpa fills the Policy from environment variables.
package retention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours, the unit retention periods are usually given in.
const Day = 24 * time.Hour

// Policy says how long each kind of record is kept. Records the policy does
// not name are kept as follows: expired web sessions are deleted at once,
// and the intake (platform deliveries not yet handled) is never purged,
// since its rows are deleted as soon as they are handled.
type Policy struct {
	// Conversations is how long after a conversation's last message its
	// text is kept: then its turns (both sides), feedback, question log
	// and last question are deleted, and the conversation itself unless it is with
	// the support team (waiting or claimed). Default 30 days. What was
	// handed to staff lives on in the escalation, under Escalations.
	Conversations time.Duration
	// Escalations is how long a resolved escalation is kept after it was
	// resolved (its last change), with its messages, audit trail and
	// outbox rows. Default 1 year.
	Escalations time.Duration
	// Payloads is how long a delivered or given-up outbox row keeps its
	// payload (the copy of the escalation the event carried) after its
	// last attempt; the row itself stays, without content, until its
	// escalation goes. Default 7 days.
	Payloads time.Duration
	// Seen is how long de-duplication keys are kept (Telegram update ids,
	// Slack event ids, helpdesk delivery ids). Default 3 days: platforms
	// retry within hours, and a key purged too soon lets a retried
	// delivery through twice.
	Seen time.Duration
	// Mail is how long a message waits in a web user's mailbox. Default
	// 30 days.
	Mail time.Duration
	// Introductions is how long a PA network introduction (the employer,
	// their note, the contact details each side shared, the audit trail)
	// is kept after its last change: the PA's answer or its expiry. A
	// request still waiting for an answer is never purged. Default 90
	// days.
	Introductions time.Duration
}

// DefaultPolicy returns the defaults: conversations 30 days after their
// last message, resolved escalations 1 year, delivered outbox payloads 7
// days, de-duplication keys 3 days, web mailboxes 30 days, answered or
// expired introductions 90 days.
func DefaultPolicy() Policy {
	return Policy{Conversations: 30 * Day, Escalations: 365 * Day, Payloads: 7 * Day, Seen: 3 * Day, Mail: 30 * Day, Introductions: 90 * Day}
}

// MinimumPolicy returns the shortest periods askpa accepts: below them a
// purge would break something people rely on (a retried delivery handled
// twice, an escalation's context gone before staff read it, a web user's
// reply gone before they come back, an answered introduction gone before
// the employer's news of it is delivered or the PA has read the contact
// details: introductions are kept at least the 7 days a request may wait
// for an answer, directory.IntroductionWait).
func MinimumPolicy() Policy {
	return Policy{Conversations: Day, Escalations: 30 * Day, Payloads: time.Hour, Seen: Day, Mail: Day, Introductions: 7 * Day}
}

// WithDefaults returns p with every zero period replaced by the default.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	for _, f := range p.fields() {
		if *f.p == 0 {
			*f.p = f.of(d)
		}
	}
	return p
}

// RangeError is the error Check returns for a period below its minimum.
type RangeError struct {
	Field string        // "Conversations", "Seen", ...
	Got   time.Duration // the period given
	Min   time.Duration // the shortest allowed
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("retention of %s is %s, shorter than the safe minimum of %s", strings.ToLower(e.Field), Words(e.Got), Words(e.Min))
}

// Check returns a *RangeError naming the first period of p shorter than
// MinimumPolicy's (zero periods stand for the defaults and pass).
func (p Policy) Check() error {
	m := MinimumPolicy()
	for _, f := range p.fields() {
		if *f.p != 0 && *f.p < f.of(m) {
			return &RangeError{Field: f.name, Got: *f.p, Min: f.of(m)}
		}
	}
	return nil
}

type policyField struct {
	name string
	p    *time.Duration
	of   func(Policy) time.Duration
}

func (p *Policy) fields() []policyField {
	return []policyField{
		{"Conversations", &p.Conversations, func(q Policy) time.Duration { return q.Conversations }},
		{"Escalations", &p.Escalations, func(q Policy) time.Duration { return q.Escalations }},
		{"Payloads", &p.Payloads, func(q Policy) time.Duration { return q.Payloads }},
		{"Seen", &p.Seen, func(q Policy) time.Duration { return q.Seen }},
		{"Mail", &p.Mail, func(q Policy) time.Duration { return q.Mail }},
		{"Introductions", &p.Introductions, func(q Policy) time.Duration { return q.Introductions }},
	}
}

// Cutoffs are the moments before which each kind of record goes: a record
// whose time is strictly before its cutoff is purged. WebSessions is the
// moment at or before which an expired session goes.
type Cutoffs struct {
	Conversations time.Time // compared with a conversation's last message, and each turn's, feedback's and question event's own time
	Escalations   time.Time // compared with a resolved escalation's last change
	Payloads      time.Time // compared with a settled outbox row's last attempt
	Seen          time.Time // compared with when a delivery was first seen
	Mail          time.Time // compared with when a mailbox message was posted
	WebSessions   time.Time // compared with a session's expiry
	// Introductions is compared with an answered or expired
	// introduction's last change (never with a request still waiting).
	Introductions time.Time
}

// Cutoffs returns the cutoffs of p (with defaults for zero periods) at now.
func (p Policy) Cutoffs(now time.Time) Cutoffs {
	p = p.WithDefaults()
	return Cutoffs{
		Conversations: now.Add(-p.Conversations),
		Escalations:   now.Add(-p.Escalations),
		Payloads:      now.Add(-p.Payloads),
		Seen:          now.Add(-p.Seen),
		Mail:          now.Add(-p.Mail),
		WebSessions:   now,
		Introductions: now.Add(-p.Introductions),
	}
}

// Counts says how many records of each kind a purge removed.
type Counts struct {
	Turns    int64 `json:"turns"`    // conversation messages, both sides
	Feedback int64 `json:"feedback"` // verdicts on answers
	// Questions are events of the question log (the editors' gap report).
	Questions int64 `json:"questions"`
	// Conversations were deleted; ConversationsCleared were kept (they are
	// with the support team) but lost their last question.
	Conversations        int64 `json:"conversations"`
	ConversationsCleared int64 `json:"conversations_cleared"`
	Escalations          int64 `json:"escalations"` // resolved escalations deleted
	Deliveries           int64 `json:"deliveries"`  // outbox rows deleted with them
	Payloads             int64 `json:"payloads"`    // outbox payloads cleared
	Seen                 int64 `json:"seen"`        // de-duplication keys
	Mail                 int64 `json:"mail"`        // web mailbox messages
	WebSessions          int64 `json:"web_sessions"`
	// Introductions are PA network introductions deleted, answered or
	// expired, with the note and the contact details they held.
	Introductions int64 `json:"introductions"`
}

// Add returns the sum of c and d.
func (c Counts) Add(d Counts) Counts {
	return Counts{
		Turns: c.Turns + d.Turns, Feedback: c.Feedback + d.Feedback, Questions: c.Questions + d.Questions,
		Conversations: c.Conversations + d.Conversations, ConversationsCleared: c.ConversationsCleared + d.ConversationsCleared,
		Escalations: c.Escalations + d.Escalations, Deliveries: c.Deliveries + d.Deliveries, Payloads: c.Payloads + d.Payloads,
		Seen: c.Seen + d.Seen, Mail: c.Mail + d.Mail, WebSessions: c.WebSessions + d.WebSessions,
		Introductions: c.Introductions + d.Introductions,
	}
}

// Kinds returns the counts by kind name, in a fixed order: the names of
// the log line and of the metric's kind label.
func (c Counts) Kinds() []Kind {
	return []Kind{
		{"turns", c.Turns}, {"feedback", c.Feedback}, {"questions", c.Questions},
		{"conversations", c.Conversations}, {"conversations_cleared", c.ConversationsCleared},
		{"escalations", c.Escalations}, {"deliveries", c.Deliveries}, {"payloads", c.Payloads},
		{"seen", c.Seen}, {"mail", c.Mail}, {"web_sessions", c.WebSessions},
		{"introductions", c.Introductions},
	}
}

// Kind is one kind's count.
type Kind struct {
	Name string
	N    int64
}

// Total returns the number of records removed or cleared, of every kind.
func (c Counts) Total() int64 {
	var n int64
	for _, k := range c.Kinds() {
		n += k.N
	}
	return n
}

// ErrBusy is returned by Runner.PurgeOnce when another process is purging
// the same store: this one removed nothing and tries at its next turn.
var ErrBusy = errors.New("retention: another process is purging")

// Store is what a purge needs of askpa's store.
type Store interface {
	// Purge removes every record older than its cutoff in c (see Policy
	// for what goes and what stays), kind by kind, each kind in
	// transactions of at most batch rows so that a large backlog never
	// holds the database for long. It returns how many records of each
	// kind it removed, also when it fails part-way (what it counted is
	// gone). Two purges at once are safe but wasteful: a Runner with a
	// Leader keeps them to one process.
	Purge(ctx context.Context, c Cutoffs, batch int) (Counts, error)
}

// Leader lets one process among those sharing a store take a role; the
// stores implement it (PostgreSQL with a session advisory lock, SQLite
// within its one process), as they do bot.Leader, whose method it is.
type Leader interface {
	// Lead tries to take the role called name without waiting; ok is
	// false when another process holds it. release gives it up.
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error)
}

// ParseDuration reads a retention period: a Go duration ("720h", "90m")
// or a whole number of days ("30d"). It refuses negative periods.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days like 30d", s)
		}
		d = time.Duration(n) * Day
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration like 720h or 30d", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// Words says d in words for people: "30 days", "1 year", "3 days",
// "36 hours", "90 minutes". Periods of whole years (365 days) are given in
// years, of whole days in days, and the rest in hours or minutes.
func Words(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= 365*Day && d%(365*Day) == 0:
		return plural(int64(d/(365*Day)), "year")
	case d >= Day && d%Day == 0:
		return plural(int64(d/Day), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}
