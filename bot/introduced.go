package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/askpa/askpa/directory"
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

// TellEmployer tells the employer who asked for introduction in what
// became of it (see IntroductionNews), at once, on their own channel. It
// is a directory.Config.NotifyIntroduction for a service without the
// Slack channel, whose own notices are queued and retried; here a failure
// is logged and not tried again.
func (r *Relay) TellEmployer(ctx context.Context, in directory.Introduction, l directory.Listing) {
	reply, ok := IntroductionNews(in, l)
	if !ok {
		return
	}
	to, known := ParseAddressKey(in.Employer)
	if !known {
		r.log.Warn("employer not told of their introduction: unknown address", "introduction", in.ID)
		return
	}
	if err := r.SendTo(ctx, to, reply); err != nil {
		r.log.Warn("employer not told of their introduction", "introduction", in.ID, "channel", to.Channel, "err", err)
	}
}
