package slack

import (
	"context"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// claimPrefix starts the value of a "Claim" button in the support channel;
// the escalation ID follows.
const claimPrefix = "claim:"

// staffMessageJob returns the work for a staff member's message in an
// escalation thread of the support channel.
func (c *Channel) staffMessageJob(ev slackevents.MessageEvent, self string) job {
	return nil
}

// claimJob returns the work for a "Claim" button pressed in the support channel.
func (c *Channel) claimJob(cb slackapi.InteractionCallback, escalationID string) job {
	return func(ctx context.Context) {}
}
