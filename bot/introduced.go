package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/askpa/askpa/directory"
	"github.com/askpa/askpa/support"
)

// ErrNoChannel reports an address on a channel that is not running here.
var ErrNoChannel = errors.New("bot: no such channel is running")

// ParseAddressKey reads a person's key, as Address.Key makes it
// ("telegram:12345", "web:u-1", "slack:U123"), back into the address of
// their private conversation with askpa: on Telegram a private chat's id
// is the user's, the web channel's mailbox is the user's, and Slack posts
// to a user's id in their direct messages with the app. It reports false
// for a key without a known channel or a user.
func ParseAddressKey(key string) (Address, bool) {
	ch, user, ok := strings.Cut(key, ":")
	if !ok || user == "" || strings.ContainsAny(user, " \t\n") {
		return Address{}, false
	}
	switch ch {
	case ChannelTelegram, ChannelWeb, ChannelSlack:
	default:
		return Address{}, false
	}
	return Address{Channel: ch, UserID: user, ChatID: user}, true
}

// SendTo delivers r to the person at to on their own channel, as staff
// replies are delivered, without touching their conversation. It returns
// an error wrapping ErrNoChannel when to's channel is not running here,
// and the channel's own error when it could not deliver.
func (r *Relay) SendTo(ctx context.Context, to Address, reply Reply) error {
	ch, ok := r.channels[to.Channel]
	if !ok {
		return fmt.Errorf("bot: send to %q: %w", to.Channel, ErrNoChannel)
	}
	if err := ch.Send(ctx, to, reply); err != nil {
		return fmt.Errorf("bot: send to %s: %w", to.Channel, err)
	}
	return nil
}

// Messages to an employer about their introduction request.
const (
	msgIntroAccepted = "Good news: %s accepted your request to be introduced. Here is how to reach them:\n\n%s\n\n" +
		"They have been sent the contact details you gave. When you talk, agree the hours, the pay and who employs whom. " +
		"Before you employ anyone, check their right to work, take up references and see a DBS check: /topics has guidance on each."
	msgIntroDeclined = "%s is not able to take on your request at the moment, so no contact details have been shared either way. " +
		"PAs say no when they are full or the journey is too far; it is not about you. You can search the network again for someone else."
	msgIntroExpired = "%s did not answer your request to be introduced within 7 days, so it has closed and no contact details have been shared. " +
		"You can search the network again for someone else."
	msgSomeone = "The PA you asked about"
)

// IntroductionNews returns what the employer who asked for introduction
// in is told when it is accepted (the contact details the listing's owner
// shares), declined or expired (kindly, without any of the PA's details),
// and false for a request still waiting. l is the listing asked about; its
// display name is used when it has one.
func IntroductionNews(in directory.Introduction, l directory.Listing) (Reply, bool) {
	name := l.DisplayName
	if name == "" {
		name = msgSomeone
	}
	search := [][]Button{{{Label: labelFindPA, Action: ActionFindPA}}}
	switch in.Status {
	case directory.IntroAccepted:
		return Reply{Text: fmt.Sprintf(msgIntroAccepted, name, ContactLines(in.ListingContact))}, true
	case directory.IntroDeclined:
		return Reply{Text: fmt.Sprintf(msgIntroDeclined, name), Buttons: search}, true
	case directory.IntroExpired:
		return Reply{Text: fmt.Sprintf(msgIntroExpired, name), Buttons: search}, true
	}
	return Reply{}, false
}

// ContactLines writes contact details one to a line ("Phone: ...",
// "Email: ...", then the note), for a person to read.
func ContactLines(c directory.Contact) string {
	var lines []string
	if c.Phone != "" {
		lines = append(lines, "Phone: "+c.Phone)
	}
	if c.Email != "" {
		lines = append(lines, "Email: "+c.Email)
	}
	if c.Note != "" {
		lines = append(lines, c.Note)
	}
	if len(lines) == 0 {
		return "(no contact details were given)"
	}
	return strings.Join(lines, "\n")
}

// IntroductionTargetName is the outbox target name of the news told to
// employers of their introduction requests.
const IntroductionTargetName = "relay:introductions"

// Introductions is where IntroductionTarget reads an introduction when it
// delivers: directory.Store (and so the askpa stores) provides it.
type Introductions interface {
	GetIntroduction(ctx context.Context, id string) (directory.Introduction, error)
}

// IntroductionTarget returns the outbox target that tells the employer who
// asked for an introduction what became of it (see IntroductionNews), on
// their own channel, through r: the PA's contact details when the PA
// accepted, kindly without them when the PA declined or did not answer.
// The store writes its rows in the transaction that stores the answer or
// the expiry (sqlstore's SetListingEvents), so an answer given just before
// a crash is still told.
//
// It takes the introduction.accepted, .declined and .expired events
// (support.IntroductionFilter) and nothing else. The event carries no
// contact details and no employer: Deliver reads the introduction from
// intros, so a request forgotten meanwhile (the employer or the PA asked
// to be forgotten) tells nobody. Each row is delivered until the
// dispatcher records it delivered, and leased to one process at a time, so
// the employer is told once; only a crash between the channel taking the
// message and the dispatcher recording it can tell them twice (never
// not at all). An employer askpa cannot reach (an address it did not make,
// a channel not running here) is a permanent failure, logged by the
// dispatcher without the message.
func (r *Relay) IntroductionTarget(intros Introductions) support.Target {
	return introductionTarget{r: r, intros: intros}
}

type introductionTarget struct {
	r      *Relay
	intros Introductions
}

// Name returns "relay:introductions".
func (introductionTarget) Name() string { return IntroductionTargetName }

// Accepts takes no escalation event.
func (introductionTarget) Accepts(support.Event) bool { return false }

// AcceptsIntroduction takes the events an employer is told of: an answer
// or an expiry.
func (introductionTarget) AcceptsIntroduction(ev support.Event) bool {
	switch ev.Name {
	case directory.EventIntroAccepted, directory.EventIntroDeclined, directory.EventIntroExpired:
		return true
	}
	return false
}

// Retry gives the news a day, as webhooks get: an employer told late that
// a PA accepted is better than one never told.
func (introductionTarget) Retry() support.Backoff { return support.DefaultBackoff }

// Deliver tells the employer of ev's introduction what became of it.
func (t introductionTarget) Deliver(ctx context.Context, ev support.Event) error {
	var shared directory.SharedIntroduction
	if err := json.Unmarshal(ev.Introduction, &shared); err != nil || shared.ID == "" {
		return support.Permanent(fmt.Errorf("bot: introduction event %s without an introduction: %v", ev.Name, err))
	}
	var l directory.Listing
	if len(ev.Listing) > 0 {
		if err := json.Unmarshal(ev.Listing, &l); err != nil {
			return support.Permanent(fmt.Errorf("bot: introduction event %s: listing: %v", ev.Name, err))
		}
	}
	in, err := t.intros.GetIntroduction(ctx, shared.ID)
	if errors.Is(err, directory.ErrNotFound) {
		return nil // forgotten: there is no one to tell
	}
	if err != nil {
		return fmt.Errorf("bot: introduction %s: %w", shared.ID, err)
	}
	if in.Status != shared.Status {
		return nil // cannot happen: an answer or an expiry is final
	}
	reply, ok := IntroductionNews(in, l)
	if !ok {
		return nil
	}
	to, known := ParseAddressKey(in.Employer)
	if !known {
		return support.Permanent(fmt.Errorf("bot: introduction %s: the employer's address is not one askpa made", in.ID))
	}
	err = t.r.SendTo(ctx, to, reply)
	if errors.Is(err, ErrNoChannel) {
		return support.Permanent(err)
	}
	return err
}
