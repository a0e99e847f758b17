// Package bot is askpa's channel-neutral engine: it turns a message from a
// person into the replies they should see. It checks for crisis and
// safeguarding signs first, handles commands and buttons, keeps each
// person's conversation state, answers from the knowledge base, and hands
// the conversation to support staff when a bot should not answer.
//
// Channel adapters (bot/telegram, bot/slack, the web channel) translate
// platform events into Message values and render Reply values; nothing in
// this package knows any platform's SDK.
package bot

import (
	"context"
	"time"

	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/support"
)

// Channel names used in addresses.
const (
	ChannelTelegram = "telegram"
	ChannelSlack    = "slack"
	ChannelWeb      = "web"
)

// Address says where a person is and where replies to them go; it is the
// support desk's Address, which escalations carry.
type Address = support.Address

// Message is something a person did: typed text, a command, or a button
// pressed.
type Message struct {
	Address Address
	// Audience is the channel's default for a new person (employers on
	// Telegram, PAs on Slack). A person's own choice, once made, wins.
	Audience knowledge.Audience
	Text     string
	// Action is the value of a pressed button (see the Action constants);
	// empty for typed text.
	Action string
	// Private marks a message the channel will answer privately (a Slack
	// slash command), so a reply may offer to share the answer.
	Private bool
	// Area, when set, is the local area (a local pack's id) the message is
	// from, as the web channel's "area" says: it becomes the person's area
	// (see AreaEngine). Handle returns ErrUnknownArea for one the service
	// does not answer for.
	Area string
	At   time.Time
	// ID is the platform's own id for the delivery that carried the
	// message (a Telegram update_id, a Slack event_id), when it has one. A
	// message handled twice with the same ID (after a crash, from the
	// intake) hands over to the support team once.
	ID string
}

// Button is a choice offered with a reply. Action comes back in
// Message.Action when the person presses it; it is at most 64 bytes.
type Button struct {
	Label  string `json:"label"`
	Action string `json:"action"`
}

// Button actions. Those with a ":" carry an argument after it.
const (
	ActionHelpful    = "helpful"
	ActionNotHelpful = "not_helpful"
	ActionHuman      = "human"
	ActionSupport    = "support" // talk to a person about one's situation
	ActionCancel     = "cancel"
	ActionRephrase   = "rephrase"
	ActionTopics     = "topics"
	ActionTopic      = "topic:"    // + topic id
	ActionAudience   = "audience:" // + employer or pa
	ActionPassage    = "p:"        // + a short reference to a suggested passage
	ActionMore       = "m:"        // + a short reference: the rest of that passage
	ActionShare      = "share"     // Slack: post a private answer in the channel
	ActionErase      = "erase"     // confirm /forget: erase everything held about me
	ActionKeepData   = "keep"      // decline /forget
	// The PA network: search it, show the next page of results, ask to be
	// introduced to a listing, or give up asking.
	ActionFindPA       = "findpa"
	ActionMoreListings = "findpa-more:" // + the offset of the next page
	ActionIntroduce    = "intro:"       // + a listing id
	ActionCancelIntro  = "intro-cancel"
	// ActionArea picks the person's area: + an area's id, or nothing for
	// "my council is not listed".
	ActionArea = "area:"
)

// Source names a document a reply was drawn from.
type Source struct {
	ID    string         `json:"id"`
	Title string         `json:"title"`
	Kind  knowledge.Kind `json:"kind"`
	URL   string         `json:"url,omitempty"`
}

// Reply is what a person is sent. Text is plain text: paragraphs separated by
// blank lines, list items starting "• ". Channels escape it and render
// Sources as links and Buttons as their own controls.
type Reply struct {
	Text    string     `json:"text"`
	Sources []Source   `json:"sources,omitempty"`
	Buttons [][]Button `json:"buttons,omitempty"` // rows of buttons
	// Answer is the engine's answer this reply carries, if any.
	Answer *Answer `json:"-"`
	// FromStaff marks a message written by support staff, relayed.
	FromStaff bool `json:"from_staff,omitempty"`
	// Key names a reply that may be sent again, such as a staff reply
	// whose delivery is retried after a crash: a channel that can tell a
	// repeat (the web channel's mailbox) sends it once. Empty for others.
	Key string `json:"-"`
}

// Channel sends replies to people on one platform.
type Channel interface {
	// Name returns the channel name used in addresses (telegram, slack, web).
	Name() string
	// Send delivers r to the person at to. It returns an error only when the
	// reply could not be delivered after the channel's own retries.
	Send(ctx context.Context, to Address, r Reply) error
}
