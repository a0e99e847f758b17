package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/directory"
)

// Moderation in the support channel: when one is configured, each listing
// sent for moderation is posted there as a card with Approve and Reject.
// Approve publishes it at once; Reject opens a modal asking for the reason
// its owner will be told. Either answer goes in the card's thread, and the
// owner hears of it in a direct message, as when staff moderate over HTTP.
// The card shows what the public would see, never the contact details.

// toSupport is the recipient of a notice that goes to the support channel.
const toSupport = "support"

// Button values, modal callback and block ids of moderation; the listing
// id follows the prefixes.
const (
	moderateApprovePrefix = "listing-approve:"
	moderateRejectPrefix  = "listing-reject:"
	rejectCallback        = "askpa_listing_reject"
	rejectBlock           = "reason"
	rejectInput           = "reason_input"
	// maxReasonLen bounds a rejection's reason, in characters.
	maxReasonLen = 500
)

// Words of moderation.
const (
	msgCardTitle    = "*A listing is waiting for approval:* %s"
	msgCardTrust    = "Check it reads as a PA's or micro-provider's own offer, in the right area, with nothing that should not be public. Contact details are kept out of the card."
	msgApproved     = "Approved by %s. It is in search for 90 days, and its owner has been told."
	msgRejected     = "Rejected by %s: %s. Its owner has been told the reason and can change the listing and send it again."
	msgNotModerated = "Not done: %s"
	labelApprove    = "Approve"
	labelReject     = "Reject…"
	msgReasonLabel  = "Why is it rejected? The PA will read this."
	msgReasonHint   = "For example: please describe your experience in your own words, and take out the link to your website."
)

// postListingCard posts the card of the listing n is about, unless it has
// been moderated meanwhile.
func (c *Channel) postListingCard(ctx context.Context, n notice) error {
	nw := c.network()
	if nw == nil {
		return errors.New("slack: listing card without a network")
	}
	l, err := nw.n.Get(ctx, n.Listing)
	if errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if l.Status != directory.StatusPending {
		return nil
	}
	text := fmt.Sprintf(msgCardTitle, escapeText(l.DisplayName)) + "\n" + escapeText(cardSummary(nw.n.Services(), l))
	blocks := []slackapi.Block{
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, false), nil, nil),
		slackapi.NewContextBlock("", slackapi.NewTextBlockObject(slackapi.PlainTextType, msgCardTrust, false, false)),
		slackapi.NewActionBlock("moderate",
			slackapi.NewButtonBlockElement("approve", moderateApprovePrefix+l.ID, slackapi.NewTextBlockObject(slackapi.PlainTextType, labelApprove, false, false)).WithStyle(slackapi.StylePrimary),
			slackapi.NewButtonBlockElement("reject", moderateRejectPrefix+l.ID, slackapi.NewTextBlockObject(slackapi.PlainTextType, labelReject, false, false)).WithStyle(slackapi.StyleDanger),
		),
	}
	return c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		_, _, err := c.api.PostMessageContext(ctx, c.cfg.SupportChannel,
			slackapi.MsgOptionText(fmt.Sprintf("A listing is waiting for approval: %s", l.DisplayName), false),
			slackapi.MsgOptionBlocks(blocks...))
		return err
	})
}

// cardSummary is what a card says of l: what search results show.
func cardSummary(vocab *directory.Vocabulary, l directory.Listing) string {
	kind := "PA"
	if l.Kind == directory.KindMicroProvider {
		kind = "micro-provider"
	}
	lines := []string{kind + ", covers " + strings.Join(l.Areas, ", ")}
	if len(l.Services) > 0 {
		labels := make([]string, len(l.Services))
		for i, id := range l.Services {
			labels[i] = strings.ToLower(vocab.Label(id))
		}
		lines = append(lines, "Offers: "+strings.Join(labels, ", "))
	}
	for _, part := range []struct{ name, text string }{
		{"Available", l.Availability}, {"About", l.About}, {"Experience", l.Experience}, {"Training", strings.Join(l.Training, "; ")},
	} {
		if part.text != "" {
			lines = append(lines, part.name+": "+part.text)
		}
	}
	return strings.Join(lines, "\n")
}

// moderationTask returns the work for Approve pressed on a card in the
// support channel; false for anything else.
func (c *Channel) moderationTask(cb slackapi.InteractionCallback, value string) (task, bool) {
	id, ok := strings.CutPrefix(value, moderateApprovePrefix)
	if !ok || c.cfg.SupportChannel == "" || interactionChannel(cb) != c.cfg.SupportChannel {
		return task{}, false
	}
	ts := cb.Container.MessageTs
	return job(func(ctx context.Context) {
		c.moderated(ctx, cb.User.ID, ts, func(nw *network, staff string) (string, error) {
			_, err := nw.n.Approve(ctx, id, staff)
			return fmt.Sprintf(msgApproved, escapeText(staff)), err
		})
	}).task("moderation", "support-listing:"+id), true
}

// moderated runs one moderation as the member of staff who pressed the
// button, and says what became of it in the card's thread (or, when it
// could not be done, to them alone).
func (c *Channel) moderated(ctx context.Context, user, ts string, do func(nw *network, staff string) (string, error)) {
	nw := c.network()
	if nw == nil {
		c.tellStaff(ctx, user, ts, fmt.Sprintf(msgNotModerated, "askpa's PA network is not connected."))
		return
	}
	staff := c.staffName(ctx, user, "")
	done, err := do(nw, staff)
	switch {
	case errors.Is(err, directory.ErrConflict):
		c.tellStaff(ctx, user, ts, fmt.Sprintf(msgNotModerated, "the listing is no longer waiting for approval; someone may have moderated it already."))
		return
	case errors.Is(err, directory.ErrNotFound):
		c.tellStaff(ctx, user, ts, fmt.Sprintf(msgNotModerated, "askpa does not know this listing (it may have been erased)."))
		return
	case err != nil:
		c.log.Error("moderation from slack failed", "error", err)
		c.tellStaff(ctx, user, ts, fmt.Sprintf(msgNotModerated, "something went wrong on askpa's side. Please try again."))
		return
	}
	err = c.retry(ctx, "chat.postMessage", func(ctx context.Context) error {
		_, _, err := c.api.PostMessageContext(ctx, c.cfg.SupportChannel, slackapi.MsgOptionTS(ts), slackapi.MsgOptionText(done, false))
		return err
	})
	if err != nil {
		c.log.Warn("moderation note not posted", "error", errKind(err))
	}
}

// openReject opens the modal asking why a listing is rejected, at once,
// while Slack's trigger is fresh. It reports whether it opened.
func (c *Channel) openReject(ctx context.Context, cb slackapi.InteractionCallback, id string) bool {
	if cb.TriggerID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, modalTimeout)
	defer cancel()
	input := slackapi.NewPlainTextInputBlockElement(slackapi.NewTextBlockObject(slackapi.PlainTextType, msgReasonHint, false, false), rejectInput)
	input.Multiline = true
	input.MaxLength = maxReasonLen
	view := slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		CallbackID:      rejectCallback,
		PrivateMetadata: id + " " + cb.Container.MessageTs,
		Title:           slackapi.NewTextBlockObject(slackapi.PlainTextType, "Reject the listing", false, false),
		Submit:          slackapi.NewTextBlockObject(slackapi.PlainTextType, "Reject", false, false),
		Close:           slackapi.NewTextBlockObject(slackapi.PlainTextType, "Cancel", false, false),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			slackapi.NewInputBlock(rejectBlock, slackapi.NewTextBlockObject(slackapi.PlainTextType, msgReasonLabel, false, false), nil, input),
		}},
	}
	err := c.retry(ctx, "views.open", func(ctx context.Context) error {
		_, err := c.api.OpenViewContext(ctx, cb.TriggerID, view)
		return err
	})
	if err != nil {
		c.log.Error("reject modal not opened", "error", errKind(err))
		return false
	}
	return true
}

// rejectReason returns the reason typed into a submitted reject modal.
func rejectReason(cb slackapi.InteractionCallback) string {
	if cb.View.State == nil {
		return ""
	}
	return strings.TrimSpace(cb.View.State.Values[rejectBlock][rejectInput].Value)
}

// acceptReject checks a submitted reject modal at once (a reason is
// required) and, when it has one, writes it to the intake.
func (c *Channel) acceptReject(ctx context.Context, cb slackapi.InteractionCallback, payload []byte) response {
	switch reason := rejectReason(cb); {
	case reason == "":
		return response{status: http.StatusOK, body: slackapi.NewErrorsViewSubmissionResponse(map[string]string{rejectBlock: "Please say why, for the PA."})}
	case utf8.RuneCountInString(reason) > maxReasonLen:
		return response{status: http.StatusOK, body: slackapi.NewErrorsViewSubmissionResponse(map[string]string{rejectBlock: fmt.Sprintf("Please keep it under %d characters.", maxReasonLen)})}
	}
	id := cb.TriggerID
	if id == "" {
		id = "view:" + cb.View.ID + ":" + cb.View.Hash
	}
	return response{status: c.accept(ctx, "interaction:"+id, delivery{Kind: kindInteraction, Body: payload})}
}

// rejectTask is the work for a submitted reject modal: the listing is
// rejected with the reason, said in the card's thread.
func (c *Channel) rejectTask(cb slackapi.InteractionCallback) (task, bool) {
	id, ts, _ := strings.Cut(cb.View.PrivateMetadata, " ")
	reason := rejectReason(cb)
	if id == "" || reason == "" || c.cfg.SupportChannel == "" {
		return task{}, false
	}
	return job(func(ctx context.Context) {
		c.moderated(ctx, cb.User.ID, ts, func(nw *network, staff string) (string, error) {
			_, err := nw.n.Reject(ctx, id, staff, reason)
			return fmt.Sprintf(msgRejected, escapeText(staff), escapeText(reason)), err
		})
	}).task("moderation", "support-listing:"+id), true
}
