package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
)

// Notices: what happens to a listing, and to the introductions asked of
// it, is told to its owner in a direct message. The outbox delivers each
// change's event to ListingTarget (or, for listings only, the network
// calls NotifyListing), which writes a notice to the intake, so that it
// is delivered (and retried) like any delivery from Slack, by whichever
// process takes it, once per change.
// A notice carries ids, the event and the staff's reason, never contact
// details: those are read from the network when it is delivered.

// kindNotice is the intake kind of a notice.
const kindNotice = "notice"

// Recipients of a notice.
const (
	toOwner    = "owner"
	toEmployer = "employer"
)

// Values of the buttons in introduction messages: the introduction id
// follows.
const (
	introAcceptPrefix  = "intro-accept:"
	introDeclinePrefix = "intro-decline:"
)

// notice is what the intake keeps of one thing to tell one person.
type notice struct {
	To      string `json:"to"`
	Listing string `json:"listing"`
	// Owner is the listing's owner, "slack:TEAM:USER".
	Owner string `json:"owner,omitempty"`
	// Event is a directory listing event, or "introduction".
	Event string `json:"event"`
	// Who made the change: directory.ByOwner, directory.BySystem or
	// "staff".
	Who     string    `json:"who,omitempty"`
	Name    string    `json:"name,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	// Days is how many days were left when an expiry reminder was due.
	Days int `json:"days,omitempty"`
	// Intro and Status identify an introduction and what became of it.
	Intro  string `json:"intro,omitempty"`
	Status string `json:"status,omitempty"`
	// Employer is the employer's person key, for employer notices.
	Employer string `json:"employer,omitempty"`
}

// eventIntroduction is the Event of introduction notices.
const eventIntroduction = "introduction"

// NotifyListing tells the owner of l, when they are on Slack, of event in
// a direct message, and puts a listing sent for moderation in the support
// channel with Approve and Reject when there is one (see moderation.go);
// it is directory.Config.Notify. The messages are queued in the intake and
// sent by a worker; a failure to queue one is logged.
func (c *Channel) NotifyListing(ctx context.Context, l directory.Listing, event string) {
	c.listingNotices(ctx, l, event, func(id, key string, n notice) error {
		c.queueNotice(ctx, id, key, n)
		return nil
	})
}

// listingNotices queues, through queue, the notices of event in l: the
// moderation card of a listing sent for moderation, and the owner's
// direct message. Each notice's intake id is made of the listing's id and
// the length of its audit trail, so queueing the notices of one change
// twice queues them once. It returns the first error of queue.
func (c *Channel) listingNotices(ctx context.Context, l directory.Listing, event string, queue func(id, key string, n notice) error) error {
	if event == directory.EventSubmitted && c.cfg.SupportChannel != "" {
		if err := queue(fmt.Sprintf("notice:listing-card:%s:%d", l.ID, len(l.Audit)), "support-listing:"+l.ID,
			notice{To: toSupport, Listing: l.ID, Event: directory.EventSubmitted, Name: l.DisplayName}); err != nil {
			return err
		}
	}
	if _, user, ok := parseOwner(l.Owner); ok && ownerHears(event) {
		n := notice{To: toOwner, Listing: l.ID, Owner: l.Owner, Event: event, Who: lastWho(l), Name: l.DisplayName,
			Reason: l.Reason, Expires: l.ExpiresAt}
		if event == directory.EventExpiring {
			n.Days = int((l.ExpiresAt.Sub(l.RemindedAt) + 12*time.Hour) / (24 * time.Hour))
		}
		return queue("notice:listing:"+l.ID+":"+strconv.Itoa(len(l.Audit)), personKey(user), n)
	}
	return nil
}

// ownerHears reports the events an owner is told of: not the creation or
// editing of a draft, which they are doing themselves at that moment.
func ownerHears(event string) bool {
	return event != directory.EventCreated && event != directory.EventEdited
}

// lastWho says who made the latest change to l.
func lastWho(l directory.Listing) string {
	if len(l.Audit) == 0 {
		return directory.BySystem
	}
	switch w := l.Audit[len(l.Audit)-1].Who; w {
	case directory.ByOwner, directory.BySystem:
		return w
	}
	return "staff"
}

// introNotices queues, through queue, the owner's notice of what became
// of introduction id (status) to listing l, when the owner is on Slack: a
// request, which the worker sends with Accept and Decline, or their own
// answer, which it confirms (with the employer's contact details, read
// when it is sent, when they accepted). An expiry is not told to the owner.
// Each notice's intake id is made of the introduction's id and status, so
// queueing the notices of one change twice queues them once. The employer
// is told of the outcome on their own channel by bot.Relay's
// IntroductionTarget; notices to employers queued in the intake by an
// earlier version of askpa are still delivered (tellEmployer).
func (c *Channel) introNotices(l directory.Listing, id string, status directory.IntroStatus, queue func(id, key string, n notice) error) error {
	_, user, ok := parseOwner(l.Owner)
	if !ok || status == directory.IntroExpired {
		return nil
	}
	n := notice{To: toOwner, Listing: l.ID, Owner: l.Owner, Event: eventIntroduction, Name: l.DisplayName, Intro: id, Status: string(status)}
	return queue("notice:intro:"+id+":"+string(status)+":owner", personKey(user), n)
}

// queueNotice writes n to the intake under id, ordered with key; a
// failure is logged.
func (c *Channel) queueNotice(ctx context.Context, id, key string, n notice) {
	if err := c.writeNotice(ctx, id, key, n); err != nil {
		c.log.Error("notice not queued", "listing", n.Listing, "event", n.Event, "status", n.Status, "error", err)
	}
}

// writeNotice writes n to the intake under id, ordered with key. The
// intake keeps one delivery per id: writing the same id again is a no-op.
func (c *Channel) writeNotice(ctx context.Context, id, key string, n notice) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(delivery{Kind: kindNotice, Body: body})
	if err != nil {
		return err
	}
	_, err = c.intake.Receive(ctx, bot.Inbound{ID: id, Key: key, Payload: payload})
	return err
}

// noticeTask returns the work of delivering a notice.
func (c *Channel) noticeTask(body json.RawMessage) (task, bool) {
	var n notice
	if err := json.Unmarshal(body, &n); err != nil || n.Listing == "" {
		return task{}, false
	}
	switch n.To {
	case toOwner:
		team, user, ok := parseOwner(n.Owner)
		if !ok {
			return task{}, false
		}
		out := c.dmReply(team, user)
		return task{kind: "notice", key: personKey(user), run: func(ctx context.Context) error {
			r, ok, err := c.ownerNotice(ctx, n)
			if err != nil || !ok {
				return err
			}
			return out(ctx, r)
		}}, true
	case toEmployer:
		return task{kind: "notice", key: "employer:" + n.Employer, run: func(ctx context.Context) error { return c.tellEmployer(ctx, n) }}, true
	case toSupport:
		return task{kind: "notice", key: "support-listing:" + n.Listing, run: func(ctx context.Context) error { return c.postListingCard(ctx, n) }}, true
	}
	return task{}, false
}

// ownerNotice returns the message to a listing's owner for n; false when
// there is nothing to say (a request answered before it was delivered).
func (c *Channel) ownerNotice(ctx context.Context, n notice) (bot.Reply, bool, error) {
	if n.Event == eventIntroduction {
		return c.introOwnerNotice(ctx, n)
	}
	name := quoted(n.Name)
	open := []bot.Button{{Label: labelOpenListing, Action: listingOpen}}
	human := []bot.Button{{Label: "Talk to a person", Action: bot.ActionHuman}}
	renew := bot.Button{Label: "Renew for 90 days", Action: listingActionPrefix + moveRenew + ":" + n.Listing}
	switch n.Event {
	case directory.EventSubmitted:
		return bot.Reply{Text: fmt.Sprintf(msgNoticeSubmitted, name)}, true, nil
	case directory.EventApproved:
		pause := bot.Button{Label: "Pause it", Action: listingActionPrefix + movePause + ":" + n.Listing}
		return bot.Reply{Text: fmt.Sprintf(msgNoticeApproved, name, day(n.Expires)), Buttons: [][]bot.Button{{pause, open[0]}}}, true, nil
	case directory.EventRejected:
		return bot.Reply{Text: fmt.Sprintf(msgNoticeRejected, name, n.Reason), Buttons: [][]bot.Button{open, human}}, true, nil
	case directory.EventPaused:
		resume := bot.Button{Label: "Resume", Action: listingActionPrefix + moveResume + ":" + n.Listing}
		if n.Who != directory.ByOwner {
			return bot.Reply{Text: fmt.Sprintf(msgNoticePausedByStaff, name), Buttons: [][]bot.Button{human}}, true, nil
		}
		return bot.Reply{Text: fmt.Sprintf(msgNoticePaused, day(n.Expires)), Buttons: [][]bot.Button{{resume}}}, true, nil
	case directory.EventResumed:
		return bot.Reply{Text: fmt.Sprintf(msgNoticeResumed, name, day(n.Expires))}, true, nil
	case directory.EventRenewed:
		return bot.Reply{Text: fmt.Sprintf(msgNoticeRenewed, name, day(n.Expires))}, true, nil
	case directory.EventExpiring:
		text := fmt.Sprintf(msgNoticeExpiring, capitalise(name), day(n.Expires), plural(max(1, n.Days), "day"))
		return bot.Reply{Text: text, Buttons: [][]bot.Button{{renew, open[0]}}}, true, nil
	case directory.EventExpired:
		return bot.Reply{Text: fmt.Sprintf(msgNoticeExpired, capitalise(name)), Buttons: [][]bot.Button{{renew, open[0]}}}, true, nil
	case directory.EventWithdrawn:
		if n.Who != directory.ByOwner {
			return bot.Reply{Text: fmt.Sprintf(msgNoticeWithdrawnByStaff, name), Buttons: [][]bot.Button{human}}, true, nil
		}
		return bot.Reply{Text: fmt.Sprintf(msgNoticeWithdrawn, name)}, true, nil
	}
	return bot.Reply{}, false, nil
}

// introOwnerNotice returns the message to a listing's owner about an
// introduction: the request with its buttons, or what they answered.
func (c *Channel) introOwnerNotice(ctx context.Context, n notice) (bot.Reply, bool, error) {
	nw := c.network()
	if nw == nil {
		return bot.Reply{}, false, nil
	}
	in, err := nw.n.Introduction(ctx, n.Intro)
	if errors.Is(err, directory.ErrNotFound) {
		return bot.Reply{}, false, nil
	}
	if err != nil {
		return bot.Reply{}, false, err
	}
	switch directory.IntroStatus(n.Status) {
	case directory.IntroRequested:
		if in.Status != directory.IntroRequested {
			return bot.Reply{}, false, nil // answered or expired already
		}
		buttons := [][]bot.Button{{{Label: "Accept", Action: introAcceptPrefix + in.ID}, {Label: "Decline", Action: introDeclinePrefix + in.ID}}}
		return bot.Reply{Text: fmt.Sprintf(msgIntroRequest, quoted(n.Name), quoteLines(in.Note), day(in.ExpiresAt)), Buttons: buttons}, true, nil
	case directory.IntroAccepted:
		return bot.Reply{Text: fmt.Sprintf(msgIntroAcceptedOwner, bot.ContactLines(in.EmployerContact))}, true, nil
	case directory.IntroDeclined:
		return bot.Reply{Text: msgIntroDeclinedOwner}, true, nil
	}
	return bot.Reply{}, false, nil
}

// tellEmployer delivers an employer notice on the employer's own channel.
// askpa no longer queues such notices (the outbox tells employers through
// bot.Relay's IntroductionTarget); this delivers those an earlier version
// left in the intake. An employer who cannot be reached here (their
// channel is off) is logged and left.
func (c *Channel) tellEmployer(ctx context.Context, n notice) error {
	nw := c.network()
	if nw == nil || nw.people == nil {
		c.log.Warn("employer not told of their introduction: no way to reach them", "introduction", n.Intro)
		return nil
	}
	in, err := nw.n.Introduction(ctx, n.Intro)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	l, err := nw.n.Get(ctx, in.ListingID)
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		return err
	}
	r, ok := bot.IntroductionNews(in, l)
	if !ok {
		return nil
	}
	to, known := bot.ParseAddressKey(in.Employer)
	if !known {
		c.log.Warn("employer not told of their introduction: their address is not one askpa made", "introduction", in.ID)
		return nil
	}
	err = nw.people.SendTo(ctx, to, r)
	if errors.Is(err, bot.ErrNoChannel) {
		c.log.Warn("employer not told of their introduction: their channel is not running", "introduction", in.ID, "channel", to.Channel)
		return nil
	}
	return err
}

// introAnswerTask is the work for an Accept or Decline button on an
// introduction request. Only the listing's owner may answer; the messages
// that follow come as notices.
func (c *Channel) introAnswerTask(cb slackapi.InteractionCallback, a slackapi.BlockAction) (task, bool) {
	nw := c.network()
	team, user := teamOf(cb), cb.User.ID
	accept := strings.HasPrefix(a.Value, introAcceptPrefix)
	id := strings.TrimPrefix(strings.TrimPrefix(a.Value, introAcceptPrefix), introDeclinePrefix)
	if nw == nil || user == "" || team == "" || id == "" {
		return task{}, false
	}
	owner := ownerKey(team, user)
	out := c.dmReply(team, user)
	return task{kind: "introduction answer", key: personKey(user), out: out, run: func(ctx context.Context) error {
		var err error
		if accept {
			_, err = nw.n.AcceptIntroduction(ctx, id, owner)
		} else {
			_, err = nw.n.DeclineIntroduction(ctx, id, owner)
		}
		switch {
		case errors.Is(err, directory.ErrNotFound):
			c.log.Warn("introduction answered by someone who does not own its listing", "introduction", id)
			return c.tell(ctx, out, msgIntroNotFound)
		case errors.Is(err, directory.ErrConflict):
			in, gerr := nw.n.Introduction(ctx, id)
			if gerr != nil {
				return gerr
			}
			want := directory.IntroDeclined
			if accept {
				want = directory.IntroAccepted
			}
			if in.Status != want { // not the same press again
				c.acknowledgeButton(ctx, cb, a)
				return c.tell(ctx, out, fmt.Sprintf(msgIntroNoLonger, introStatusWords[in.Status]))
			}
		case err != nil:
			return err
		}
		c.acknowledgeButton(ctx, cb, a)
		return nil
	}}, true
}

var introStatusWords = map[directory.IntroStatus]string{
	directory.IntroAccepted: "you accepted it already",
	directory.IntroDeclined: "you declined it already",
	directory.IntroExpired:  "it expired after 7 days without an answer",
}

// dmReply returns a reply that goes to user's direct messages with the app.
func (c *Channel) dmReply(team, user string) reply {
	return func(ctx context.Context, r bot.Reply) error {
		ch, err := c.dmChannel(ctx, user)
		if err != nil {
			return err
		}
		return c.Send(ctx, bot.Address{Channel: bot.ChannelSlack, UserID: user, ChatID: ch, Team: team}, r)
	}
}

// dmChannel returns the id of the app's direct message conversation with
// user, opening it (conversations.open) the first time.
func (c *Channel) dmChannel(ctx context.Context, user string) (string, error) {
	c.namesMu.Lock()
	ch, ok := c.dms[user]
	c.namesMu.Unlock()
	if ok {
		return ch, nil
	}
	err := c.retry(ctx, "conversations.open", func(ctx context.Context) error {
		got, _, _, err := c.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{user}})
		if err == nil {
			ch = got.ID
		}
		return err
	})
	if err != nil {
		return "", classify(fmt.Errorf("slack: open a direct message: %w", err))
	}
	if ch == "" {
		return "", errors.New("slack: open a direct message: no channel returned")
	}
	c.namesMu.Lock()
	if len(c.dms) >= maxCacheEntries {
		clear(c.dms)
	}
	c.dms[user] = ch
	c.namesMu.Unlock()
	return ch, nil
}

// quoted puts a listing's name in quotation marks.
func quoted(name string) string {
	if name == "" {
		return "your listing"
	}
	return "your listing “" + name + "”"
}

// quoteLines sets plain text off as a quotation, a line at a time.
func quoteLines(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, l := range lines {
		lines[i] = "│ " + l
	}
	return strings.Join(lines, "\n")
}

// capitalise starts s with a capital letter.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Messages to a listing's owner.
const (
	msgNoticeSubmitted = "Thank you: %s has been sent for moderation. Someone from the network team will check it, usually within a few working days, " +
		"and I will tell you here when it is approved or if something needs changing. Until then it is not shown in searches."
	msgNoticeApproved = "Good news: %s is approved, and now shows in searches by people looking for a PA. It stays up until %s; " +
		"I will remind you a week before, so that you can renew it.\n\n" +
		"When someone asks to be introduced, I will send you their note here, and you choose whether to share your contact details. " +
		"Until then, nobody sees them."
	msgNoticeRejected = "Sorry, %s was not approved. The network team said:\n\n%s\n\n" +
		"You can change it and send it again: open your listing, make the changes and press Send for checking."
	msgNoticePaused        = "Your listing is paused: it is hidden from searches until you resume it. It still expires on %s unless you renew it."
	msgNoticePausedByStaff = "The network team has paused %s: it is hidden from searches for now. If you are not sure why, talk to a person on the team."
	msgNoticeResumed       = "Resumed: %s shows in searches again, until %s."
	msgNoticeRenewed       = "Renewed: %s stays up until %s."
	msgNoticeExpiring      = "%s expires on %s, in %s. If it is still right, renew it to keep it up for another 90 days; " +
		"if something has changed, open it and change it."
	msgNoticeExpired = "%s has expired: it was not renewed within 90 days, so it no longer shows in searches. " +
		"Renew it to put it back up as it was, or open it to change it first."
	msgNoticeWithdrawn        = "Done: %s is withdrawn and no longer shows in searches. You can make a new one at any time: type listing."
	msgNoticeWithdrawnByStaff = "The network team has withdrawn %s: it no longer shows in searches. If you are not sure why, talk to a person on the team."

	msgIntroRequest = "Someone looking for support has asked to be introduced to you, through %s. Their note:\n\n%s\n\n" +
		"If you accept, I will send you their contact details here, and they will get the contact details on your listing. " +
		"If you decline, they will be told kindly, without any of your details. The request waits until %s.\n\n" +
		"If you meet, make the first meeting somewhere public or with someone else there, and tell someone where you are going."
	msgIntroAcceptedOwner = "You accepted. Here is how to reach them:\n\n%s\n\n" +
		"They have been sent your contact details too. When you talk, agree the hours, the pay and who employs whom; " +
		"make the first meeting somewhere public or with someone else there."
	msgIntroDeclinedOwner = "Declined. They will be told kindly, without any of your details."
	msgIntroNotFound      = "Sorry, that request could not be found: it may be for someone else's listing."
	msgIntroNoLonger      = "That request is no longer waiting: %s."
)
