package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/directory"
)

// The PA network in Slack. PAs and micro-providers list themselves with
// "/askpa listing", or by writing "listing" in a direct message (askpa
// answers with an "Open my listing" button, since only a command or a
// button press lets an app open a modal). The modal is opened at once,
// while Slack's trigger is fresh; a submission is checked at once, so that
// a problem is shown against its field, and only then written to the
// intake, from which a worker stores it and sends it for moderation. The
// owner is told of every change in a direct message (notices.go).

// People delivers a reply to a person on their own channel: employers who
// asked to be introduced to a PA are on Telegram or the web. *bot.Relay
// implements it.
type People interface {
	SendTo(ctx context.Context, to bot.Address, r bot.Reply) error
}

// network is what SetNetwork connected.
type network struct {
	n      *directory.Network
	people People
}

// SetNetwork connects the PA network: with it, "/askpa listing" and the
// word "listing" in a direct message let a PA create and manage their
// listing, owners are told in a direct message of what happens to it
// (NotifyListing), and PAs accept or decline introductions
// (NotifyIntroduction), whose outcome reaches the employer through
// people. Call it before serving; people may be nil when employers are
// nowhere to be reached. Until it is called, "listing" is a question for
// the bot like any other.
func (c *Channel) SetNetwork(n *directory.Network, people People) {
	c.net.Store(&network{n: n, people: people})
}

func (c *Channel) network() *network { return c.net.Load() }

// Block, action and callback ids of the listing modal and its buttons.
const (
	listingCallback = "askpa_listing" // the modal's callback_id
	// listingOpen is the value of an "Open my listing" button.
	listingOpen = "listing-open"
	// listingActionPrefix starts the value of a button that changes a
	// listing: "listing:pause:<id>", and resume, renew, withdraw.
	listingActionPrefix = "listing:"
	// valueAction is the action_id of every input in the modal.
	valueAction = "value"
	// modalTimeout bounds opening a modal: Slack's trigger lasts 3 seconds.
	modalTimeout = 2500 * time.Millisecond
)

// The moves a PA makes on their listing from a button.
const (
	movePause    = "pause"
	moveResume   = "resume"
	moveRenew    = "renew"
	moveWithdraw = "withdraw"
)

// ownerKey names a Slack user as the owner of a listing: "slack:TEAM:USER".
func ownerKey(team, user string) string { return bot.ChannelSlack + ":" + team + ":" + user }

// parseOwner reads an owner key made by ownerKey; ok is false for a
// listing owned elsewhere (or by nobody).
func parseOwner(owner string) (team, user string, ok bool) {
	rest, found := strings.CutPrefix(owner, bot.ChannelSlack+":")
	if !found {
		return "", "", false
	}
	team, user, ok = strings.Cut(rest, ":")
	return team, user, ok && user != "" && !strings.Contains(user, ":")
}

// isListingWord reports text that asks for one's own listing: "listing"
// or "my listing", in any case.
func isListingWord(text string) bool {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!?"))
	return t == "listing" || t == "my listing"
}

// ownListing returns the owner's current listing: the newest that is not
// withdrawn. ok is false when there is none.
func ownListing(ctx context.Context, n *directory.Network, owner string) (directory.Listing, bool, error) {
	var found directory.Listing
	ok := false
	req := directory.ListRequest{Owner: owner, Limit: directory.MaxListLimit}
	for {
		p, err := n.List(ctx, req)
		if err != nil {
			return directory.Listing{}, false, fmt.Errorf("slack: the owner's listing: %w", err)
		}
		for _, l := range p.Listings {
			if l.Status != directory.StatusWithdrawn {
				found, ok = l, true // oldest first: the last one wins
			}
		}
		if p.Next == "" {
			return found, ok, nil
		}
		req.Cursor = p.Next
	}
}

// openListing opens the listing modal for user with trigger, prefilled
// with their listing when they have one. It reports whether the modal
// opened; a failure is logged.
func (c *Channel) openListing(ctx context.Context, nw *network, trigger, team, user string) bool {
	if trigger == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, modalTimeout)
	defer cancel()
	l, has, err := ownListing(ctx, nw.n, ownerKey(team, user))
	if err != nil {
		c.log.Error("listing modal not opened: the listing could not be read", "error", err)
		return false
	}
	view := listingModal(nw.n.Services(), l, has)
	err = c.retry(ctx, "views.open", func(ctx context.Context) error {
		_, err := c.api.OpenViewContext(ctx, trigger, view)
		return err
	})
	if err != nil {
		c.log.Error("listing modal not opened", "error", errKind(err))
		return false
	}
	return true
}

// listingCommand answers "/askpa listing" by opening the modal, before
// Slack is answered. The answer to Slack says sorry when it could not.
func (c *Channel) listingCommand(ctx context.Context, nw *network, trigger, team, user string) response {
	if c.openListing(ctx, nw, trigger, team, user) {
		return response{status: http.StatusOK}
	}
	return response{status: http.StatusOK, body: map[string]string{"response_type": "ephemeral", "text": msgModalFailed}}
}

// listingWordTask answers "listing" in a direct message with a button
// that opens the modal.
func (c *Channel) listingWordTask(m bot.Message) task {
	out := c.public(m.Address)
	return task{kind: "listing", key: m.Address.Key(), out: out, run: func(ctx context.Context) error {
		r := bot.Reply{Text: msgListingButton, Buttons: [][]bot.Button{{{Label: labelOpenListing, Action: listingOpen}}}}
		if err := out(ctx, r); err != nil {
			c.log.Error("slack reply not delivered", "error", errKind(err))
		}
		return nil
	}}
}

// acceptListingSubmission checks a submitted listing modal at once and,
// when it is fit to store, writes it to the intake. A problem is answered
// with Slack's response_action "errors", naming the block of the field at
// fault, and nothing is kept.
func (c *Channel) acceptListingSubmission(ctx context.Context, nw *network, cb slackapi.InteractionCallback, payload []byte) response {
	d, problems := detailsFromView(cb.View.State)
	if len(problems) == 0 {
		var inv *directory.InvalidError
		if err := nw.n.Check(d); errors.As(err, &inv) {
			problems = map[string]string{blockOf(inv.Field): problemText(inv)}
		}
	}
	if len(problems) > 0 {
		return response{status: http.StatusOK, body: slackapi.NewErrorsViewSubmissionResponse(problems)}
	}
	id := cb.TriggerID
	if id == "" {
		id = "view:" + cb.View.ID + ":" + cb.View.Hash
	}
	return response{status: c.accept(ctx, "interaction:"+id, delivery{Kind: kindInteraction, Body: payload})}
}

// submissionTask is the work for a listing submitted in the modal: the
// owner's listing is created (or changed) and sent for moderation. Done
// twice, it changes the listing the first time made, rather than making
// another.
func (c *Channel) submissionTask(cb slackapi.InteractionCallback) (task, bool) {
	nw := c.network()
	team, user := teamOf(cb), cb.User.ID
	if nw == nil || user == "" || team == "" {
		return task{}, false
	}
	owner := ownerKey(team, user)
	out := c.dmReply(team, user)
	return task{kind: "listing submission", key: personKey(user), out: out, run: func(ctx context.Context) error {
		d, problems := detailsFromView(cb.View.State)
		if len(problems) > 0 {
			return c.tell(ctx, out, msgListingNotSaved)
		}
		l, has, err := ownListing(ctx, nw.n, owner)
		if err != nil {
			return err
		}
		if !has {
			if l, err = nw.n.Draft(ctx, owner, d); err != nil {
				return c.listingFailed(ctx, out, err)
			}
		} else if l, err = nw.n.Edit(ctx, l.ID, directory.ByOwner, d); err != nil {
			return c.listingFailed(ctx, out, err)
		}
		if l.Status == directory.StatusDraft {
			if _, err := nw.n.Submit(ctx, l.ID, directory.ByOwner); err != nil {
				return c.listingFailed(ctx, out, err)
			}
		}
		c.log.Info("listing submitted from slack", "listing", l.ID)
		return nil
	}}, true
}

// listingFailed tells the owner why their listing could not be stored
// when it is something they can mend, and returns err, to be tried again,
// when it is not.
func (c *Channel) listingFailed(ctx context.Context, out reply, err error) error {
	var inv *directory.InvalidError
	switch {
	case errors.As(err, &inv):
		return c.tell(ctx, out, "Your listing was not saved: "+fieldName(inv.Field)+" "+inv.Problem+". "+msgOpenAgain)
	case errors.Is(err, directory.ErrConflict), errors.Is(err, directory.ErrNotFound):
		return c.tell(ctx, out, msgListingNotSaved)
	}
	return err
}

// tell sends text through out; a failure is logged, not returned, so that
// the work is not done again for it.
func (c *Channel) tell(ctx context.Context, out reply, text string) error {
	if err := out(ctx, bot.Reply{Text: text}); err != nil {
		c.log.Error("slack reply not delivered", "error", errKind(err))
	}
	return nil
}

// listingMoveTask is the work for a button that pauses, resumes, renews
// or withdraws a listing, pressed in the modal or in a direct message.
// Only the listing's owner may; a move already made (the same press done
// twice) is not an error.
func (c *Channel) listingMoveTask(cb slackapi.InteractionCallback, a slackapi.BlockAction) (task, bool) {
	nw := c.network()
	team, user := teamOf(cb), cb.User.ID
	move, id, ok := strings.Cut(strings.TrimPrefix(a.Value, listingActionPrefix), ":")
	if nw == nil || user == "" || team == "" || !ok || id == "" {
		return task{}, false
	}
	switch move {
	case movePause, moveResume, moveRenew, moveWithdraw:
	default:
		return task{}, false
	}
	owner := ownerKey(team, user)
	out := c.dmReply(team, user)
	return task{kind: "listing " + move, key: personKey(user), out: out, run: func(ctx context.Context) error {
		l, err := nw.n.Get(ctx, id)
		switch {
		case errors.Is(err, directory.ErrNotFound) || (err == nil && l.Owner != owner):
			c.log.Warn("listing button pressed by someone who does not own it", "listing", id)
			return c.tell(ctx, out, msgNotYourListing)
		case err != nil:
			return err
		}
		switch move {
		case movePause:
			l, err = nw.n.Pause(ctx, id, directory.ByOwner)
		case moveResume:
			l, err = nw.n.Resume(ctx, id, directory.ByOwner)
		case moveRenew:
			l, err = nw.n.Renew(ctx, id, directory.ByOwner)
		case moveWithdraw:
			l, err = nw.n.Withdraw(ctx, id, directory.ByOwner, "withdrawn by its owner in Slack")
		}
		switch {
		case errors.Is(err, directory.ErrConflict):
			if l, err = nw.n.Get(ctx, id); err != nil {
				return err
			}
			if !alreadyMoved(move, l.Status) {
				return c.tell(ctx, out, fmt.Sprintf(msgCannotMove, moveVerb[move], statusWords(l)))
			}
		case errors.Is(err, directory.ErrNotFound):
			return c.tell(ctx, out, msgNotYourListing)
		case err != nil:
			return err
		}
		c.afterPress(ctx, nw, cb, a, l)
		return nil
	}}, true
}

// alreadyMoved reports a listing that is where move would have put it.
func alreadyMoved(move string, s directory.Status) bool {
	switch move {
	case movePause:
		return s == directory.StatusPaused
	case moveResume:
		return s == directory.StatusApproved
	case moveWithdraw:
		return s == directory.StatusWithdrawn
	}
	return false
}

var moveVerb = map[string]string{movePause: "paused", moveResume: "resumed", moveRenew: "renewed", moveWithdraw: "withdrawn"}

// afterPress shows that a button was pressed: in a modal, the modal is
// redrawn with the listing as it now is; in a message, the buttons are
// replaced by the choice made. Failure is logged.
func (c *Channel) afterPress(ctx context.Context, nw *network, cb slackapi.InteractionCallback, a slackapi.BlockAction, l directory.Listing) {
	if cb.View.ID == "" {
		c.acknowledgeButton(ctx, cb, a)
		return
	}
	view := listingModal(nw.n.Services(), l, l.Status != directory.StatusWithdrawn)
	err := c.retry(ctx, "views.update", func(ctx context.Context) error {
		_, err := c.api.UpdateViewContext(ctx, view, "", "", cb.View.ID)
		return err
	})
	if err != nil {
		c.log.Warn("listing modal not redrawn", "error", errKind(err))
	}
}

// teamOf returns the workspace an interaction came from.
func teamOf(cb slackapi.InteractionCallback) string {
	for _, t := range []string{cb.Team.ID, cb.User.TeamID, cb.View.TeamID} {
		if t != "" {
			return t
		}
	}
	return ""
}

// personKey is the intake key of a Slack user's own deliveries, the key of
// their conversation with the bot, so that they are handled in order with
// it.
func personKey(user string) string {
	return bot.Address{Channel: bot.ChannelSlack, UserID: user}.Key()
}

// detailsFromView reads a submitted listing modal. problems names, by
// block, what cannot even be read (the hourly rate); everything else is
// left to directory.Network.Check.
func detailsFromView(st *slackapi.ViewState) (directory.Details, map[string]string) {
	var d directory.Details
	if st == nil {
		return d, map[string]string{"name": "Please fill in the form."}
	}
	get := func(block string) slackapi.BlockAction { return st.Values[block][valueAction] }
	d.Kind = directory.Kind(get("kind").SelectedOption.Value)
	d.Name = get("name").Value
	d.Areas = splitItems(get("areas").Value, ",;\n")
	for _, o := range get("services").SelectedOptions {
		d.Services = append(d.Services, o.Value)
	}
	d.Availability = get("availability").Value
	d.Languages = splitItems(get("languages").Value, ",;\n")
	d.About = get("about").Value
	d.Experience = get("experience").Value
	d.Training = splitItems(get("training").Value, "\n")
	for _, o := range get("dbs").SelectedOptions {
		d.DBSUpdateService = d.DBSUpdateService || o.Value == "yes"
	}
	d.Employment = directory.Employment(get("employment").SelectedOption.Value)
	d.Contact = directory.Contact{Phone: get("contact_phone").Value, Email: get("contact_email").Value, Note: get("contact_note").Value}
	pence, ok := parsePounds(get("rate").Value)
	if !ok {
		return d, map[string]string{"rate": msgBadRate}
	}
	d.HourlyRatePence = pence
	return d, nil
}

// splitItems splits a list typed into one box at any of seps, dropping
// empty items.
func splitItems(s, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// poundsRE matches an hourly rate in pounds: "15", "15.5", "£15.50",
// optionally followed by "an hour" and the like.
var poundsRE = regexp.MustCompile(`(?i)^£?\s*(\d{1,3})(?:\.(\d{1,2}))?\s*(?:an hour|per hour|/\s*h(?:ou)?r|ph)?$`)

// parsePounds reads an hourly rate in pounds as pence: nil for an empty
// box, false for text that is not an amount.
func parsePounds(s string) (*int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	m := poundsRE.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	pounds, _ := strconv.Atoi(m[1])
	pence := 0
	if m[2] != "" {
		pence, _ = strconv.Atoi(m[2])
		if len(m[2]) == 1 {
			pence *= 10
		}
	}
	v := pounds*100 + pence
	return &v, true
}

// blockOf returns the modal block that shows directory field (as an
// InvalidError names it: "experience", "areas[1]", "hourly_rate_pence").
func blockOf(field string) string {
	base, _, _ := strings.Cut(field, "[")
	switch base {
	case "hourly_rate_pence":
		return "rate"
	case "contact":
		return "contact_phone"
	case "kind", "name", "areas", "services", "availability", "languages", "about", "experience", "training", "employment":
		return base
	}
	return "name"
}

// fieldName names a directory field as the modal labels it.
func fieldName(field string) string {
	base, _, _ := strings.Cut(field, "[")
	switch base {
	case "hourly_rate_pence":
		return "the hourly rate"
	case "contact":
		return "your contact details"
	}
	return "“" + strings.ReplaceAll(base, "_", " ") + "”"
}

// problemText says what is wrong with a field, under it in the modal.
func problemText(inv *directory.InvalidError) string {
	p := inv.Problem
	if !strings.HasPrefix(p, `"`) {
		p = "This " + p
	}
	return truncatePlain(p, 500)
}

// statusWords describes where a listing is, for its owner.
func statusWords(l directory.Listing) string {
	switch l.Status {
	case directory.StatusDraft:
		return "a draft: it has not been sent for checking yet"
	case directory.StatusPending:
		return "waiting to be checked by the network team"
	case directory.StatusApproved:
		return "approved: it shows in searches until " + day(l.ExpiresAt)
	case directory.StatusRejected:
		return "not approved"
	case directory.StatusPaused:
		return "paused: it is hidden from searches, and expires on " + day(l.ExpiresAt) + " unless renewed"
	case directory.StatusExpired:
		return "expired: it no longer shows in searches"
	case directory.StatusWithdrawn:
		return "withdrawn"
	}
	return string(l.Status)
}

// day writes a date as people in England read it: "3 March 2026".
func day(t time.Time) string { return t.UTC().Format("2 January 2006") }

// Texts of the listing modal and its messages.
const (
	msgModalFailed     = "Sorry, I could not open your listing just now. Please try again in a minute."
	msgListingButton   = "Your listing in the PA network: press the button to create it, change it, pause it or renew it."
	labelOpenListing   = "Open my listing"
	msgListingNotSaved = "Sorry, your listing could not be saved. Please open it and try again."
	msgOpenAgain       = "Please open your listing again (type listing) and change it."
	msgNotYourListing  = "Sorry, that listing could not be found: it may belong to someone else. Type listing to see your own."
	msgCannotMove      = "Your listing could not be %s: it is %s."
	msgBadRate         = "Please give the hourly rate in pounds, such as 15.50, or leave it empty."
	msgModalIntroNew   = "List yourself in the council's PA network, so that people near you who need support can find you. " +
		"The network team checks every listing before it is shown, and again after every change."
	msgModalPrivate = "Kept private. Your contact details are never shown in searches: they are shared only with someone " +
		"whose request to be introduced you accept, and they get them only then."
	msgModalOwnWords = "What you say about your experience, training and DBS check is shown as your own word: the council does not check it, " +
		"and people are told to check it themselves before employing anyone."
)

// listingModal builds the listing modal: empty for a new listing, or
// filled in with l when has, with buttons to pause, resume, renew or
// withdraw it as its state allows.
func listingModal(vocab *directory.Vocabulary, l directory.Listing, has bool) slackapi.ModalViewRequest {
	pt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
	}
	option := func(value, label string) *slackapi.OptionBlockObject {
		return slackapi.NewOptionBlockObject(value, pt(label), nil)
	}
	text := func(block, label, hint, initial string, maxLen int, multiline, optional bool) *slackapi.InputBlock {
		el := slackapi.NewPlainTextInputBlockElement(nil, valueAction)
		el.InitialValue, el.MaxLength, el.Multiline = initial, maxLen, multiline
		var h *slackapi.TextBlockObject
		if hint != "" {
			h = pt(hint)
		}
		b := slackapi.NewInputBlock(block, pt(label), h, el)
		b.Optional = optional
		return b
	}
	if !has {
		l = directory.Listing{}
	}
	var blocks []slackapi.Block
	intro := msgModalIntroNew
	if has {
		intro = "*Your listing:* " + escapeText(l.DisplayName) + " is " + escapeText(statusWords(l)) + "."
		if l.Status == directory.StatusRejected && l.Reason != "" {
			intro += "\nThe network team said: " + escapeText(l.Reason)
		}
		intro += "\nChanges you send are checked before they are shown; until then your listing is not shown in searches."
	}
	blocks = append(blocks, section(intro))
	if has {
		if row := manageButtons(l); row != nil {
			blocks = append(blocks, row)
		}
	}
	blocks = append(blocks, slackapi.NewDividerBlock())

	kinds := []*slackapi.OptionBlockObject{option(string(directory.KindPA), "A personal assistant (PA)"),
		option(string(directory.KindMicroProvider), "A micro-provider (a small local care business)")}
	kind := slackapi.NewRadioButtonsBlockElement(valueAction, kinds...)
	kind.InitialOption = kinds[0]
	if l.Kind == directory.KindMicroProvider {
		kind.InitialOption = kinds[1]
	}
	blocks = append(blocks, slackapi.NewInputBlock("kind", pt("I am"), nil, kind),
		text("name", "Name", "A PA's full name: only the first name and initial are shown (Sam Taylor: Sam T.). A micro-provider's business name.",
			l.Name, directory.MaxNameLen, false, false),
		text("areas", "Areas you cover", "Postcode districts and towns, separated by commas: EX4, EX5, Exeter",
			strings.Join(l.Areas, ", "), 2000, false, false))

	var opts, chosen []*slackapi.OptionBlockObject
	for _, s := range vocab.Services() {
		o := option(s.ID, truncatePlain(s.Label, 75))
		opts = append(opts, o)
		for _, id := range l.Services {
			if id == s.ID {
				chosen = append(chosen, o)
			}
		}
	}
	services := slackapi.NewOptionsMultiSelectBlockElement(slackapi.MultiOptTypeStatic, pt("Choose the help you offer"), valueAction, opts...)
	services.InitialOptions = chosen
	blocks = append(blocks, slackapi.NewInputBlock("services", pt("Help you offer"), nil, services),
		text("availability", "When you are available", "Days and times, such as: weekday mornings, some weekends", l.Availability, directory.MaxShortLen, true, true),
		text("languages", "Languages you speak", "Separated by commas", strings.Join(l.Languages, ", "), directory.MaxShortLen, false, true),
		text("about", "About you", "A few words about you and how you work. No phone numbers, emails or links.", l.About, directory.MaxLongLen, true, true),
		text("experience", "Your experience", "In your own words: who you have supported, for how long.", l.Experience, directory.MaxLongLen, true, true),
		text("training", "Training and qualifications", "One to a line: Care Certificate, first aid, moving and handling...", strings.Join(l.Training, "\n"), 3000, true, true))

	yes := option("yes", "I have a DBS certificate on the DBS Update Service")
	dbs := slackapi.NewCheckboxGroupsBlockElement(valueAction, yes)
	if l.DBSUpdateService {
		dbs.InitialOptions = []*slackapi.OptionBlockObject{yes}
	}
	dbsBlock := slackapi.NewInputBlock("dbs", pt("DBS check"), nil, dbs)
	dbsBlock.Optional = true
	rate := ""
	if l.HourlyRatePence != nil {
		rate = fmt.Sprintf("%d.%02d", *l.HourlyRatePence/100, *l.HourlyRatePence%100)
	}
	ways := []*slackapi.OptionBlockObject{option(string(directory.SelfEmployed), "Self-employed"),
		option(string(directory.LookingForEmployer), "Looking for an employer (employed by the person I support)"),
		option(string(directory.EitherEmployment), "Either")}
	employment := slackapi.NewRadioButtonsBlockElement(valueAction, ways...)
	for _, w := range ways {
		if w.Value == string(l.Employment) {
			employment.InitialOption = w
		}
	}
	employmentBlock := slackapi.NewInputBlock("employment", pt("How you want to work"), nil, employment)
	employmentBlock.Optional = true
	blocks = append(blocks, dbsBlock,
		text("rate", "Hourly rate (optional)", "In pounds, such as 15.50", rate, 12, false, true),
		employmentBlock,
		slackapi.NewContextBlock("own_words", slackapi.NewTextBlockObject(slackapi.PlainTextType, msgModalOwnWords, false, false)),
		slackapi.NewDividerBlock(),
		section("*Contact details*\n"+escapeText(msgModalPrivate)+" Give a phone number or an email address, or both."),
		text("contact_phone", "Phone", "", l.Contact.Phone, 200, false, true),
		text("contact_email", "Email", "", l.Contact.Email, 200, false, true),
		text("contact_note", "Anything else about contacting you", "Such as: text first, or ring after 6pm", l.Contact.Note, 200, false, true))

	return slackapi.ModalViewRequest{
		Type:       slackapi.VTModal,
		CallbackID: listingCallback,
		Title:      pt("Your PA network listing"),
		Submit:     pt("Send for checking"),
		Close:      pt("Cancel"),
		Blocks:     slackapi.Blocks{BlockSet: blocks},
	}
}

// manageButtons returns the modal's row of buttons for what l's owner may
// do with it now, or nil when there is nothing.
func manageButtons(l directory.Listing) *slackapi.ActionBlock {
	pt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
	}
	button := func(move, label string) *slackapi.ButtonBlockElement {
		return slackapi.NewButtonBlockElement("listing_"+move, listingActionPrefix+move+":"+l.ID, pt(label))
	}
	var els []slackapi.BlockElement
	switch l.Status {
	case directory.StatusApproved:
		els = append(els, button(movePause, "Pause"), button(moveRenew, "Renew for 90 days"))
	case directory.StatusPaused:
		els = append(els, button(moveResume, "Resume"), button(moveRenew, "Renew for 90 days"))
	case directory.StatusExpired:
		els = append(els, button(moveRenew, "Renew for 90 days").WithStyle(slackapi.StylePrimary))
	case directory.StatusWithdrawn:
		return nil
	}
	confirm := slackapi.NewConfirmationBlockObject(pt("Withdraw your listing?"),
		pt("It will no longer show in searches and cannot be brought back: you would make a new one."), pt("Withdraw"), pt("Keep it"))
	els = append(els, button(moveWithdraw, "Withdraw").WithStyle(slackapi.StyleDanger).WithConfirm(confirm))
	return slackapi.NewActionBlock("listing_manage", els...)
}
