package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
	"github.com/askpa/askpa/retention"
	"github.com/askpa/askpa/support"
)

// Escalator is the part of the support desk the bot uses to hand a
// conversation to a person. *support.Desk implements it.
type Escalator interface {
	Escalate(ctx context.Context, n support.NewEscalation) (support.Escalation, error)
	AddPersonMessage(ctx context.Context, escalationID, text string, at time.Time) error
	AddBotMessages(ctx context.Context, escalationID string, ms []support.Message, at time.Time) error
	Withdraw(ctx context.Context, escalationID, note string) error
}

// ServiceConfig configures a Service. Engine and Store are required.
type ServiceConfig struct {
	Engine *Engine
	Store  Store
	// Desk receives escalations. Without one the bot still says when it
	// would hand over, and points people to their council instead.
	Desk Escalator
	// Network is the council's PA network, searched with /findpa; nil
	// when the deployment has none.
	Network PANetwork
	// Areas are the councils the service answers for, each with its own
	// engine (see AreaEngine); a person picks theirs with /area. Empty for
	// a service with one area or none, which answers with Engine.
	Areas []AreaEngine
	// ResponseTime completes "A person will reply here, usually ...".
	// Default "within one working day".
	ResponseTime string
	// OfferAfter is how many unanswered questions in a row make the bot
	// offer a person (default 2); EscalateAfter how many make it hand over
	// (default 3).
	OfferAfter, EscalateAfter int
	// MaxMessageChars bounds what a person may send in one message; longer
	// messages are cut (default 4,000).
	MaxMessageChars int
	// HistoryTurns is how many recent turns an escalation carries (default 20).
	HistoryTurns int
	// ContextWindow is how recent a person's previous message must be to
	// be read with their next one when judging safety (default 30
	// minutes).
	ContextWindow time.Duration
	// QuietAfter is how long someone shown a crisis signposting line (a
	// caution for suicidal thoughts or a medical emergency) may stay quiet
	// before the conversation is handed to the support team to check on
	// them (default 30 minutes). See FollowUpQuiet.
	QuietAfter time.Duration
	// Privacy erases a person's data when they confirm /forget (and serves
	// Service.Forget and Service.Export); without it /forget tells them to
	// ask the support team.
	Privacy *Privacy
	// Retention is what /privacy tells people about how long their data
	// is kept; zero periods are the defaults. It should be the policy the
	// purge applies.
	Retention retention.Policy
	// Questions, when set, keeps the question log the editors' gap report
	// reads (see QuestionEvent): every question the bot answers, or cannot,
	// with its outcome and the passage shown, the text redacted.
	Questions QuestionLog
	// Registerer, when set, gets the service's collectors:
	// askpa_questions_total by audience and outcome (answered, unanswered,
	// escalated, small_talk) and askpa_feedback_total by verdict.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service is the bot every channel talks to: it keeps each person's
// conversation, handles commands and buttons, answers through the Engine
// and hands over to the support desk. It implements Handler and is safe for
// concurrent use.
type Service struct {
	cfg       ServiceConfig
	engine    *Engine
	store     Store
	desk      Escalator
	log       *slog.Logger
	now       func() time.Time
	questions *prometheus.CounterVec
	feedback  *prometheus.CounterVec
	// convs orders each conversation's messages in this process, whatever
	// channel they come from; across processes the channels' intake does.
	convs keyedLocks
	// supportOpen and noDesk are the hand-over's words for the engine's
	// local pack (see supportOpen, msgNoDesk), worked out once.
	supportOpen, noDesk string
}

// NewService returns a Service for cfg, or an error when Engine or Store is
// missing or a collector cannot be registered.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Engine == nil || cfg.Store == nil {
		return nil, errors.New("bot: NewService needs an Engine and a Store")
	}
	if cfg.ResponseTime == "" {
		cfg.ResponseTime = defaultResponseTime
	}
	if cfg.OfferAfter == 0 {
		cfg.OfferAfter = 2
	}
	if cfg.EscalateAfter == 0 {
		cfg.EscalateAfter = 3
	}
	if cfg.MaxMessageChars == 0 {
		cfg.MaxMessageChars = 4000
	}
	if cfg.HistoryTurns == 0 {
		cfg.HistoryTurns = 20
	}
	if cfg.ContextWindow == 0 {
		cfg.ContextWindow = 30 * time.Minute
	}
	if cfg.QuietAfter == 0 {
		cfg.QuietAfter = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		cfg: cfg, engine: cfg.Engine, store: cfg.Store, desk: cfg.Desk, log: cfg.Logger, now: cfg.Now,
		supportOpen: supportOpen(cfg.Engine.Area()), noDesk: cfg.Engine.Area().Expand(msgNoDesk),
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "askpa_questions_total",
			Help: "Messages answered by the engine, by audience and outcome (answered, unanswered, escalated, small_talk).",
		}, []string{"audience", "outcome"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "askpa_feedback_total",
			Help: "Feedback on answers, by verdict (helpful, not_helpful).",
		}, []string{"verdict"}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{s.questions, s.feedback} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("bot: registering metrics: %w", err)
			}
		}
	}
	return s, nil
}

// count records the outcome of one question.
func (s *Service) count(a Answer) {
	s.questions.WithLabelValues(string(a.Audience), outcome(a)).Inc()
}

// defaultAudience is who a new person on a channel is taken to be.
func defaultAudience(m Message) knowledge.Audience {
	if m.Audience == knowledge.Employer || m.Audience == knowledge.PA {
		return m.Audience
	}
	if m.Address.Channel == ChannelSlack {
		return knowledge.PA
	}
	return knowledge.Employer
}

// turn is one exchange being handled: the conversation, and what to send.
type turn struct {
	conv   Conversation
	res    Result
	msg    Message
	now    time.Time
	dirty  bool // conv changed and must be saved
	logged bool // the person's message is already in the history
	// forgotten: the person's data was erased; nothing of this exchange
	// is kept.
	forgotten bool
	// again marks a message handled before, whose replies may not have
	// reached the person (the process died after saving, before sending).
	again bool
}

func (t *turn) reply(r Reply) { t.res.Replies = append(t.res.Replies, r) }

// Handle handles one message from a person and returns the replies to send
// them. It fails only when the store or the search fails; the channel should
// then tell the person to try again.
func (s *Service) Handle(ctx context.Context, m Message) (Result, error) {
	if m.Address.Channel == "" || m.Address.UserID == "" {
		return Result{}, errors.New("bot: message without a channel or user")
	}
	if m.Address.ChatID == "" {
		m.Address.ChatID = m.Address.UserID
	}
	defer s.convs.lock(m.Address.Key())()
	// Invalid UTF-8 and NUL characters never reach a store: PostgreSQL
	// refuses them, and a refused message would be lost.
	m.Text = support.CleanText(m.Text)
	if n := utf8.RuneCountInString(m.Text); n > s.cfg.MaxMessageChars {
		m.Text = string([]rune(m.Text)[:s.cfg.MaxMessageChars])
	}
	m.Text = strings.TrimSpace(m.Text)
	now := m.At
	if now.IsZero() {
		now = s.now()
	}
	conv, err := s.store.Conversation(ctx, m.Address, defaultAudience(m), now)
	if err != nil {
		return Result{}, fmt.Errorf("bot: loading conversation: %w", err)
	}
	t := &turn{conv: conv, msg: m, now: now, again: m.ID != "" && m.ID == conv.LastMessageID}
	if m.ID != "" {
		t.conv.LastMessageID = m.ID
	}
	t.res.ConversationID = conv.ID
	if err := s.messageArea(t); err != nil {
		return Result{}, err
	}
	// Whatever they sent, the person has not gone quiet.
	t.conv.Caution, t.conv.CautionAt = "", time.Time{}

	switch {
	case m.Action != "":
		err = s.action(ctx, t, m.Action)
	case strings.HasPrefix(m.Text, "/"):
		err = s.command(ctx, t)
	case conv.Mode != ModeBot:
		err = s.relayToStaff(ctx, t)
	default:
		handled := false
		if conv.Awaiting != "" {
			handled, err = s.awaited(ctx, t)
		}
		if !handled && err == nil {
			err = s.question(ctx, t)
		}
	}
	if err != nil {
		return Result{}, err
	}
	if t.forgotten {
		return Result{Replies: t.res.Replies}, nil
	}
	if err := s.finish(ctx, t); err != nil {
		return Result{}, err
	}
	if t.conv.Mode != ModeBot {
		t.res.EscalationID = t.conv.EscalationID
	}
	return t.res, nil
}

// finish records the exchange in the conversation's history and saves it,
// in one transaction when the store can (ExchangeStore). While the bot has
// the conversation, the person's words are kept redacted (see Redact); once
// it is with the support team they are kept as written, as staff need them.
func (s *Service) finish(ctx context.Context, t *turn) error {
	redact := func(s string) string { return s }
	if t.conv.Mode == ModeBot {
		redact = Redact
		t.conv.LastQuestion = Redact(t.conv.LastQuestion)
	}
	turns := make([]Turn, 0, 1+len(t.res.Replies))
	if !t.logged && t.msg.Text != "" {
		turns = append(turns, Turn{From: FromUser, Text: redact(t.msg.Text), At: t.now})
	}
	turns = append(turns, replyTurns(t.res.Replies, t.now)...)
	t.conv.Address = t.msg.Address
	t.conv.UpdatedAt = t.now
	if es, ok := s.store.(ExchangeStore); ok {
		if err := es.SaveExchange(ctx, t.conv, turns); err != nil {
			return fmt.Errorf("bot: saving conversation: %w", err)
		}
		return nil
	}
	for _, tn := range turns {
		if err := s.store.AppendTurn(ctx, t.conv.ID, tn); err != nil {
			what := "message"
			if tn.From == FromBot {
				what = "reply"
			}
			return fmt.Errorf("bot: recording %s: %w", what, err)
		}
	}
	if err := s.store.SaveConversation(ctx, t.conv); err != nil {
		return fmt.Errorf("bot: saving conversation: %w", err)
	}
	return nil
}

// recent returns the person's recent messages, oldest first, ending with
// the one being handled: the one before it too when it came within
// ContextWindow, so that safety is judged on the conversation.
func (s *Service) recent(t *turn) []string {
	if t.conv.LastQuestion != "" && t.now.Sub(t.conv.UpdatedAt) <= s.cfg.ContextWindow {
		return []string{t.conv.LastQuestion, t.msg.Text}
	}
	return []string{t.msg.Text}
}

// question answers a typed question while the bot has the conversation,
// and records it in the question log.
func (s *Service) question(ctx context.Context, t *turn) (err error) {
	a, err := s.engineFor(t).AnswerIn(ctx, s.recent(t), t.conv.Audience)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			s.logQuestion(ctx, t, a) // a as it ends: a third miss hands over
		}
	}()
	t.res.Answer = &a
	t.conv.LastQuestion = t.msg.Text
	s.count(a)
	if a.safety != nil && !a.Escalate && a.safety.Group() == safety.GroupCrisis {
		t.conv.Caution, t.conv.CautionAt = a.Concern, t.now
	}
	if a.Escalate {
		return s.escalate(ctx, t, a.Text, a.Reason, a.Urgent, a.Sources)
	}
	if a.Answered {
		t.conv.Misses = 0
		t.conv.LastPassageID = a.PassageID
		t.reply(s.offerSearch(personFirst(s.answerReply(a)), t.msg.Text))
		return nil
	}
	if a.Reason != ReasonLowConfidence || a.Situation {
		// Greetings, thanks, off-topic messages and people describing
		// their situation are not misses.
		t.reply(personFirst(Reply{Text: a.Text, Answer: &a}))
		return nil
	}
	t.conv.Misses++
	switch {
	case t.conv.Misses >= s.cfg.EscalateAfter:
		a.Escalate, a.Reason = true, ReasonLowConfidence
		return s.escalate(ctx, t, msgMissesHanded, ReasonLowConfidence, false, nil)
	case t.conv.Misses >= s.cfg.OfferAfter:
		r := s.missReply(a)
		r.Text += "\n\n" + msgOfferPerson
		t.reply(personFirst(r))
	default:
		t.reply(s.offerSearch(personFirst(s.missReply(a)), t.msg.Text))
	}
	return nil
}

// answerReply renders an answer with its feedback and suggestion buttons.
func (s *Service) answerReply(a Answer) Reply {
	r := Reply{Text: a.Text, Sources: a.Sources, Answer: &a}
	if a.More != "" && a.PassageID != "" {
		r.Buttons = append(r.Buttons, []Button{{Label: labelMore, Action: ActionMore + PassageRef(a.PassageID)}})
	}
	r.Buttons = append(r.Buttons, []Button{
		{Label: labelHelpful, Action: ActionHelpful},
		{Label: labelNotHelpful, Action: ActionNotHelpful},
		{Label: labelHuman, Action: ActionHuman},
	})
	r.Buttons = append(r.Buttons, suggestionRows(a)...)
	return r
}

// personFirst moves "Talk to a person" to a row of its own at the top of a
// reply whose answer opens with a signposting line (a caution): someone who
// may be in danger should not have to look for the way to a person. Someone
// who described their situation (a new diagnosis, feeling overwhelmed) is
// offered a person to talk it through the same way.
func personFirst(r Reply) Reply {
	if r.Answer == nil || (r.Answer.Concern == "" && !r.Answer.Situation) {
		return r
	}
	first := Button{Label: labelHuman, Action: ActionHuman}
	if r.Answer.Situation && r.Answer.Concern == "" {
		first = Button{Label: labelSupport, Action: ActionSupport}
	}
	rows := [][]Button{{first}}
	for _, row := range r.Buttons {
		var kept []Button
		for _, b := range row {
			if b.Action != ActionHuman {
				kept = append(kept, b)
			}
		}
		if len(kept) > 0 {
			rows = append(rows, kept)
		}
	}
	r.Buttons = rows
	return r
}

// missReply renders an honest "not sure" with what might be meant.
func (s *Service) missReply(a Answer) Reply {
	r := Reply{Text: a.Text, Answer: &a}
	r.Buttons = append(r.Buttons, suggestionRows(a)...)
	r.Buttons = append(r.Buttons, []Button{{Label: labelTopics, Action: ActionTopics}, {Label: labelHuman, Action: ActionHuman}})
	return r
}

// suggestionRows offers each suggested passage as a button of its own row.
func suggestionRows(a Answer) [][]Button {
	var rows [][]Button
	for i, id := range a.suggestionIDs {
		rows = append(rows, []Button{{Label: buttonLabel(a.Suggestions[i]), Action: ActionPassage + PassageRef(id)}})
	}
	return rows
}

// buttonLabel shortens text to fit on a button.
func buttonLabel(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := string([]rune(s)[:max-1])
	if i := strings.LastIndex(cut, " "); i > max/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// escalate hands the conversation to the support desk and tells the person.
// text is what to say first (the answer or signposting).
func (s *Service) escalate(ctx context.Context, t *turn, text, reason string, urgent bool, sources []Source) error {
	if t.conv.Mode != ModeBot && t.conv.EscalationID != "" {
		// Already with the desk: a new urgent message still gets its
		// signposting, and the desk sees it.
		t.reply(Reply{Text: text, Sources: sources, Answer: t.res.Answer})
		return s.relayToStaff(ctx, t)
	}
	if s.desk == nil {
		t.reply(Reply{Text: text + "\n\n" + s.noDeskFor(t), Sources: sources, Answer: t.res.Answer})
		return nil
	}
	// The person's message goes into the history first, so that the
	// escalation carries it.
	if t.msg.Text != "" {
		if err := s.store.AppendTurn(ctx, t.conv.ID, Turn{From: FromUser, Text: t.msg.Text, At: t.now}); err != nil {
			return fmt.Errorf("bot: recording message: %w", err)
		}
		t.logged = true
	}
	history, err := s.store.Turns(ctx, t.conv.ID, s.cfg.HistoryTurns)
	if err != nil {
		return fmt.Errorf("bot: reading history: %w", err)
	}
	n := support.NewEscalation{
		ConversationID: t.conv.ID,
		Address:        t.msg.Address,
		Audience:       string(t.conv.Audience),
		Reason:         reason,
		Priority:       support.PriorityNormal,
		Summary:        summary(reason, t.conv.LastQuestion),
		Area:           t.conv.Area,
	}
	if t.msg.ID != "" {
		n.Key = t.msg.Address.Key() + "/" + t.msg.ID + "/" + reason
	}
	if urgent {
		n.Priority = support.PriorityUrgent
	}
	if a := t.res.Answer; a != nil && a.safety != nil {
		v := a.safety
		n.Safety = &support.SafetyAssessment{Kind: string(v.Kind), Level: v.Level.String(), Probability: round2(v.Probability), By: v.By}
	}
	// The escalation ends with the reply the person is about to get, so
	// that staff see the conversation as the person saw it.
	handed := s.handOver(t, text, reason, urgent)
	n.Messages = escalationMessages(append(history, Turn{From: FromBot, Text: handed, Sources: sources, At: t.now}))
	e, err := s.desk.Escalate(ctx, n)
	if err != nil {
		return fmt.Errorf("bot: escalating: %w", err)
	}
	s.log.Info("escalated", "conversation", t.conv.ID, "escalation", e.ID, "reason", reason, "urgent", urgent)
	t.conv.Mode, t.conv.EscalationID, t.conv.ToldWaiting, t.conv.Misses = ModeWaiting, e.ID, true, 0
	t.res.EscalationID = e.ID
	r := Reply{Text: handed, Sources: sources, Answer: t.res.Answer}
	r.Buttons = [][]Button{{{Label: labelCancel, Action: ActionCancel}}}
	t.reply(r)
	return nil
}

// handOver returns the reply that tells the person their conversation is
// with the support team, with text (the answer or signposting) where the
// reason calls for it.
func (s *Service) handOver(t *turn, text, reason string, urgent bool) string {
	handed := fmt.Sprintf(msgHandedOver, s.cfg.ResponseTime, s.supportOpenFor(t))
	if urgent {
		handed = msgUrgentHanded + " " + handed
	}
	switch {
	case reason != ReasonRequested:
		// Say why first: the signposting, the first step, the honest miss.
		handed = text + "\n\n" + handed
	case t.res.Answer != nil && t.res.Answer.Answered:
		// Asked for a person and a question: the hand-over first, then
		// what the guidance says meanwhile (the text after "Of course").
		if _, meanwhile, ok := strings.Cut(text, "\n\n"); ok {
			handed += "\n\n" + meanwhile
		}
	}
	return handed
}

// replyTurns returns the bot's replies as turns of the conversation, at at,
// each with the sources of its answer.
func replyTurns(replies []Reply, at time.Time) []Turn {
	turns := make([]Turn, 0, len(replies))
	for _, r := range replies {
		turns = append(turns, Turn{From: FromBot, Text: r.Text, Sources: r.Sources, At: at})
	}
	return turns
}

// escalationMessages returns a conversation's history as an escalation
// carries it: each bot reply with the sources of its answer, so that staff
// see the guides the person was shown.
func escalationMessages(history []Turn) []support.Message {
	var ms []support.Message
	for _, h := range history {
		m := support.Message{From: h.From, Text: clip(h.Text, support.MaxTextLen), At: h.At}
		if h.From == FromBot {
			for _, src := range h.Sources[:min(len(h.Sources), support.MaxSources)] {
				m.Sources = append(m.Sources, support.Source{ID: src.ID, Title: src.Title, URL: src.URL})
			}
		}
		ms = append(ms, m)
	}
	return ms
}

// relayToStaff passes a message to the desk while a person has the
// conversation, telling the person once that it reached them. Safety still
// comes first: crisis and safeguarding signs get their signposting at once.
func (s *Service) relayToStaff(ctx context.Context, t *turn) error {
	if t.msg.Text == "" {
		return nil
	}
	if t.res.Answer == nil {
		if v := s.engineFor(t).Safety().CheckConversation(ctx, s.recent(t), t.conv.Audience); v.Urgent() {
			a, err := s.engineFor(t).AnswerIn(ctx, s.recent(t), t.conv.Audience)
			if err != nil {
				return err
			}
			t.res.Answer = &a
			t.reply(Reply{Text: a.Text, Sources: a.Sources, Answer: &a})
		}
	}
	if t.again && t.conv.Mode == ModeWaiting {
		// Handled before: it reached the support team then (it may be the
		// message that handed over); say so again, as the first reply may
		// never have been sent.
		t.logged = true
		t.reply(Reply{Text: fmt.Sprintf(msgStillWaiting, s.cfg.ResponseTime), Buttons: [][]Button{{{Label: labelCancel, Action: ActionCancel}}}})
		return nil
	}
	if s.desk != nil && t.conv.EscalationID != "" {
		err := s.desk.AddPersonMessage(ctx, t.conv.EscalationID, clip(t.msg.Text, support.MaxTextLen), t.now)
		switch {
		case errors.Is(err, support.ErrResolved), errors.Is(err, support.ErrNotFound):
			// Staff closed it meanwhile: back to the bot, and answer.
			t.conv.Mode, t.conv.EscalationID, t.conv.ToldWaiting = ModeBot, "", false
			if t.res.Answer == nil {
				return s.question(ctx, t)
			}
			return nil
		case err != nil:
			return fmt.Errorf("bot: passing message to staff: %w", err)
		}
		// What the bot said to it (signposting) goes to staff too.
		if err := s.desk.AddBotMessages(ctx, t.conv.EscalationID, escalationMessages(replyTurns(t.res.Replies, t.now)), t.now); err != nil {
			return fmt.Errorf("bot: passing reply to staff: %w", err)
		}
	}
	if !t.conv.ToldWaiting && t.conv.Mode == ModeWaiting {
		t.conv.ToldWaiting = true
		t.reply(Reply{Text: fmt.Sprintf(msgStillWaiting, s.cfg.ResponseTime), Buttons: [][]Button{{{Label: labelCancel, Action: ActionCancel}}}})
	}
	return nil
}

// command handles "/start", "/help" and the other commands.
func (s *Service) command(ctx context.Context, t *turn) error {
	name, arg, _ := strings.Cut(strings.TrimPrefix(t.msg.Text, "/"), " ")
	name = strings.ToLower(name)
	if at := strings.IndexByte(name, '@'); at >= 0 {
		name = name[:at] // "/start@askpa_bot" in Telegram groups
	}
	switch name {
	case "start":
		t.reply(Reply{Text: msgWelcome, Buttons: [][]Button{{
			{Label: labelEmployer, Action: ActionAudience + string(knowledge.Employer)},
			{Label: labelPA, Action: ActionAudience + string(knowledge.PA)},
		}}})
	case "help":
		t.reply(Reply{Text: msgHelp})
	case "privacy":
		t.reply(Reply{Text: privacyNotice(s.cfg.Retention)})
	case "forget":
		if strings.EqualFold(strings.TrimSpace(arg), "erase") {
			return s.forget(ctx, t) // typed confirmation, for channels without buttons
		}
		return s.askForget(ctx, t)
	case "topics":
		t.reply(s.topicsReply(t.conv.Audience))
	case "human", "person", "agent":
		return s.action(ctx, t, ActionHuman)
	case "cancel", "stop":
		return s.action(ctx, t, ActionCancel)
	case "feedback":
		if t.conv.LastPassageID == "" {
			t.reply(Reply{Text: msgNothingToRate})
			return nil
		}
		t.reply(Reply{Text: msgFeedback, Buttons: [][]Button{{{Label: labelHelpful, Action: ActionHelpful}, {Label: labelNotHelpful, Action: ActionNotHelpful}}}})
	case "employer", "pa":
		return s.action(ctx, t, ActionAudience+name)
	case "findpa":
		return s.findPA(ctx, t, arg)
	case "area":
		return s.chooseArea(ctx, t, arg)
	default:
		// Not a command we know: treat it as a question.
		t.msg.Text = strings.TrimSpace(arg)
		if t.msg.Text == "" {
			t.reply(Reply{Text: msgHelp})
			return nil
		}
		if t.conv.Mode != ModeBot {
			return s.relayToStaff(ctx, t)
		}
		return s.question(ctx, t)
	}
	return nil
}

// action handles a pressed button (or the command that does the same).
func (s *Service) action(ctx context.Context, t *turn, action string) error {
	switch {
	case action == ActionHelpful || action == ActionNotHelpful:
		if t.conv.LastPassageID == "" {
			t.reply(Reply{Text: msgNothingToRate})
			return nil
		}
		helpful := action == ActionHelpful
		s.feedback.WithLabelValues(action).Inc()
		if err := s.store.RecordFeedback(ctx, Feedback{ConversationID: t.conv.ID, PassageID: t.conv.LastPassageID, Helpful: helpful, At: t.now}); err != nil {
			return fmt.Errorf("bot: recording feedback: %w", err)
		}
		if helpful {
			t.reply(Reply{Text: msgThanksHelpful})
			return nil
		}
		t.reply(Reply{Text: msgNotHelpful, Buttons: [][]Button{{
			{Label: labelRephrase, Action: ActionRephrase},
			{Label: labelHuman, Action: ActionHuman},
		}}})
	case action == ActionRephrase:
		t.reply(Reply{Text: msgRephrase})
	case action == ActionHuman, action == ActionSupport:
		if t.conv.Mode != ModeBot && t.conv.EscalationID != "" {
			t.reply(Reply{Text: msgAlreadyHanded})
			return nil
		}
		reason := ReasonRequested
		if action == ActionSupport {
			// Offered a person after describing their situation.
			reason = ReasonNeedsSupport
		}
		a := Answer{
			Question: t.msg.Text, Audience: t.conv.Audience, Text: "Of course.", Confidence: 1,
			Escalate: true, Reason: reason, Sources: []Source{}, Suggestions: []string{},
		}
		t.res.Answer = &a
		return s.escalate(ctx, t, a.Text, reason, false, nil)
	case action == ActionCancel:
		if t.conv.Mode == ModeBot || t.conv.EscalationID == "" {
			t.conv.Mode = ModeBot
			t.reply(Reply{Text: msgNothingCancel})
			return nil
		}
		if s.desk != nil {
			err := s.desk.Withdraw(ctx, t.conv.EscalationID, "the person went back to the bot")
			if err != nil && !errors.Is(err, support.ErrResolved) && !errors.Is(err, support.ErrNotFound) {
				return fmt.Errorf("bot: withdrawing escalation: %w", err)
			}
		}
		t.conv.Mode, t.conv.EscalationID, t.conv.ToldWaiting, t.conv.Misses = ModeBot, "", false, 0
		t.reply(Reply{Text: msgCancelled})
	case action == ActionErase:
		return s.forget(ctx, t)
	case action == ActionKeepData:
		t.reply(Reply{Text: msgKeptData})
	case action == ActionTopics:
		t.reply(s.topicsReply(t.conv.Audience))
	case action == ActionFindPA:
		return s.findPA(ctx, t, "")
	case strings.HasPrefix(action, ActionMoreListings):
		return s.moreListings(ctx, t, strings.TrimPrefix(action, ActionMoreListings))
	case strings.HasPrefix(action, ActionIntroduce):
		s.askIntroNote(t, strings.TrimPrefix(action, ActionIntroduce))
	case action == ActionCancelIntro:
		t.conv.Awaiting, t.conv.Draft = "", ""
		t.reply(Reply{Text: msgIntroCancelled})
	case strings.HasPrefix(action, ActionTopic):
		t.reply(s.topicReply(strings.TrimPrefix(action, ActionTopic), t.conv.Audience))
	case strings.HasPrefix(action, ActionAudience):
		a, err := knowledge.ParseAudience(strings.TrimPrefix(action, ActionAudience))
		if err != nil || a == knowledge.Both {
			return nil
		}
		t.conv.Audience, t.conv.AudienceChosen = a, true
		text := msgAudienceEmployer
		if a == knowledge.PA {
			text = msgAudiencePA
		}
		t.reply(Reply{Text: text})
		s.askAreaAfterAudience(t)
	case strings.HasPrefix(action, ActionArea):
		s.areaAction(t, strings.TrimPrefix(action, ActionArea))
	case strings.HasPrefix(action, ActionMore), strings.HasPrefix(action, ActionPassage):
		more := strings.HasPrefix(action, ActionMore)
		show, ref := s.engineFor(t).Passage, strings.TrimPrefix(action, ActionPassage)
		if more {
			show, ref = s.engineFor(t).More, strings.TrimPrefix(action, ActionMore)
		}
		a, err := show(ref, t.conv.Audience)
		if errors.Is(err, ErrUnknownPassage) {
			t.reply(Reply{Text: msgPassageGone})
			return nil
		}
		t.res.Answer = &a
		if more {
			// The rest of an answer already rated: no buttons again.
			t.reply(Reply{Text: a.Text, Sources: a.Sources, Answer: &a})
			return nil
		}
		t.conv.LastPassageID = a.PassageID
		t.reply(s.answerReply(a))
	default:
		// Unknown or channel-specific (share): nothing to say.
		s.log.Debug("unknown action", "conversation", t.conv.ID)
	}
	return nil
}

// topicsReply offers the topics the person's audience sees.
func (s *Service) topicsReply(audience knowledge.Audience) Reply {
	r := Reply{Text: msgTopics}
	var row []Button
	for _, tp := range s.engine.Base().Topics {
		if !audience.Sees(tp.Audience) {
			continue
		}
		row = append(row, Button{Label: buttonLabel(tp.Label), Action: ActionTopic + tp.ID})
		if len(row) == 2 {
			r.Buttons = append(r.Buttons, row)
			row = nil
		}
	}
	if len(row) > 0 {
		r.Buttons = append(r.Buttons, row)
	}
	return r
}

// maxTopicButtons bounds the passages offered for one topic.
const maxTopicButtons = 8

// topicReply offers the main passages of a topic: the first section of
// each guidance document on it the person's audience sees.
func (s *Service) topicReply(id string, audience knowledge.Audience) Reply {
	var label string
	for _, tp := range s.engine.Base().Topics {
		if tp.ID == id {
			label = tp.Label
		}
	}
	if label == "" {
		return Reply{Text: msgNoTopic}
	}
	r := Reply{Text: fmt.Sprintf(msgTopicPassages, lowerFirst(label))}
	for _, kind := range []knowledge.Kind{knowledge.Guidance, knowledge.Standard, knowledge.CaseStudy} {
		for _, d := range s.engine.Base().Documents {
			if len(r.Buttons) == maxTopicButtons {
				return r
			}
			if d.Kind != kind || !audience.Sees(d.Audience) || !hasTopic(d, id) {
				continue
			}
			// The first section the person may be shown: in a guide for
			// both, the first may speak to the other audience.
			i := slices.IndexFunc(d.Sections, func(s knowledge.Section) bool {
				return audience.Sees(knowledge.Passage{Doc: d, Section: &s}.Audience())
			})
			if i < 0 {
				continue
			}
			p := knowledge.Passage{Doc: d, Section: &d.Sections[i]}
			r.Buttons = append(r.Buttons, []Button{{Label: buttonLabel(d.Title), Action: ActionPassage + PassageRef(p.ID())}})
		}
	}
	return r
}

func hasTopic(d *knowledge.Document, id string) bool {
	for _, t := range d.Topics {
		if t == id {
			return true
		}
	}
	return false
}

// summary says in one line why the person was handed over, for the queue.
func summary(reason, lastQuestion string) string {
	what := map[string]string{
		ReasonRequested:     "Asked to talk to a person",
		ReasonCrisis:        "URGENT: possible crisis",
		ReasonSafeguarding:  "URGENT: possible safeguarding concern",
		ReasonDispute:       "Dispute the bot must not advise on alone",
		ReasonLowConfidence: "The bot could not answer",
		ReasonNotHelpful:    "Answer was not helpful",
	}[reason]
	if what == "" {
		what = "Handed over: " + reason
	}
	if lastQuestion == "" {
		return what
	}
	return clip(what+". Last question: "+lastQuestion, support.MaxSummaryLen)
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// FollowUpQuiet hands to the support team, as urgent, every conversation in
// which the bot showed a crisis signposting line (a caution) QuietAfter ago
// or more and the person has not written since: someone who hinted at
// suicide, or at an emergency, and went quiet should hear from a person.
// Each conversation is followed up once, even with several processes. It
// returns how many it handed over, and stops at the first error.
func (s *Service) FollowUpQuiet(ctx context.Context) (int, error) {
	if s.desk == nil {
		return 0, nil
	}
	quiet, err := s.store.TakeQuietCautions(ctx, s.now().Add(-s.cfg.QuietAfter), 100)
	if err != nil {
		return 0, fmt.Errorf("bot: following up: %w", err)
	}
	n := 0
	for _, c := range quiet {
		escalated, err := s.followUp(ctx, c)
		if err != nil {
			return n, fmt.Errorf("bot: following up: %w", err)
		}
		if escalated {
			n++
		}
	}
	return n, nil
}

// followUp hands one quiet conversation to the support team, unless it is
// with them already. quiet is the conversation as TakeQuietCautions
// returned it, with its Caution.
func (s *Service) followUp(ctx context.Context, quiet Conversation) (bool, error) {
	defer s.convs.lock(quiet.Address.Key())()
	c, err := s.store.ConversationByID(ctx, quiet.ID) // as it is now, under the lock
	if err != nil {
		return false, err
	}
	if c.Mode != ModeBot {
		return false, nil // already with the support team
	}
	history, err := s.store.Turns(ctx, c.ID, s.cfg.HistoryTurns)
	if err != nil {
		return false, err
	}
	ne := support.NewEscalation{
		ConversationID: c.ID,
		Address:        c.Address,
		Audience:       string(c.Audience),
		Reason:         ReasonQuietAfterSignpost,
		Priority:       support.PriorityUrgent,
		Summary:        clip(fmt.Sprintf(msgQuietSummary, quiet.Caution, c.LastQuestion), support.MaxSummaryLen),
		Safety:         &support.SafetyAssessment{Kind: quiet.Caution, Level: safety.LevelCaution.String(), By: "conversation"},
	}
	ne.Messages = escalationMessages(history)
	e, err := s.desk.Escalate(ctx, ne)
	if err != nil {
		return false, err
	}
	c.Mode, c.EscalationID, c.ToldWaiting, c.Misses = ModeWaiting, e.ID, false, 0
	if err := s.store.SaveConversation(ctx, c); err != nil {
		return false, err
	}
	s.log.Info("escalated", "conversation", c.ID, "escalation", e.ID, "reason", ReasonQuietAfterSignpost, "urgent", true)
	return true, nil
}

// RunFollowUps calls FollowUpQuiet every interval until ctx is done,
// logging failures, and returns nil then.
func (s *Service) RunFollowUps(ctx context.Context, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := s.FollowUpQuiet(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("following up quiet conversations", "error", err)
			}
		}
	}
}
