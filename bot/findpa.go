package bot

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/askpa/askpa/directory"
)

// PANetwork is the council's PA network as the bot uses it: searched by
// employers with /findpa, and asked for introductions. *directory.Network
// implements it.
type PANetwork interface {
	// Search returns one page of approved listings, nearest first; it
	// returns a *directory.InvalidError naming the field for an area or a
	// service it does not know.
	Search(ctx context.Context, r directory.SearchRequest) (directory.Results, error)
	// Services returns the service vocabulary searches and listings use.
	Services() *directory.Vocabulary
	// RequestIntroduction records an employer's request to be introduced
	// to a listing's PA (see directory.Network.RequestIntroduction).
	RequestIntroduction(ctx context.Context, listingID, employer, note string, contact directory.Contact) (directory.Introduction, error)
}

// findPageSize is how many listings one reply shows.
const findPageSize = 5

// findPA handles "/findpa", the "Search the PA network" button, and text
// typed after the bot asked for an area: with an area it searches, without
// one it asks for it.
func (s *Service) findPA(ctx context.Context, t *turn, args string) error {
	if s.cfg.Network == nil {
		t.reply(Reply{Text: msgNoNetwork})
		return nil
	}
	req := parseFindPA(args, s.cfg.Network.Services())
	if req.Area == "" {
		t.conv.Awaiting = awaitArea
		if req.Q != "" {
			t.reply(Reply{Text: fmt.Sprintf(msgFindPABadArea, req.Q)})
			return nil
		}
		t.reply(Reply{Text: msgFindPAAsk})
		return nil
	}
	t.conv.Awaiting, t.conv.Search = "", encodeSearch(req)
	return s.showListings(ctx, t, req)
}

// moreListings shows the next page of the conversation's last search.
func (s *Service) moreListings(ctx context.Context, t *turn, offset string) error {
	req, ok := decodeSearch(t.conv.Search)
	n, err := strconv.Atoi(offset)
	if s.cfg.Network == nil || !ok || err != nil || n < 0 || n > 1000 {
		return s.findPA(ctx, t, "")
	}
	req.Offset = n
	return s.showListings(ctx, t, req)
}

// showListings runs req and replies with its page of results: each
// listing, an "Ask to be introduced" button for each, "More" when there
// are more, and the network's notice. Free text no listing matches is
// dropped, and said so, rather than showing nothing.
func (s *Service) showListings(ctx context.Context, t *turn, req directory.SearchRequest) error {
	req.Limit = findPageSize
	res, err := s.cfg.Network.Search(ctx, req)
	var inv *directory.InvalidError
	switch {
	case errors.As(err, &inv) && inv.Field == "area":
		t.conv.Awaiting = awaitArea
		t.reply(Reply{Text: fmt.Sprintf(msgFindPABadArea, req.Area)})
		return nil
	case err != nil:
		return fmt.Errorf("bot: searching the PA network: %w", err)
	}
	var dropped string
	if len(res.Listings) == 0 && req.Q != "" && req.Offset == 0 {
		dropped, req.Q = req.Q, ""
		t.conv.Search = encodeSearch(req)
		if res, err = s.cfg.Network.Search(ctx, req); err != nil {
			return fmt.Errorf("bot: searching the PA network: %w", err)
		}
	}
	vocab := s.cfg.Network.Services()
	if len(res.Listings) == 0 {
		t.reply(Reply{Text: fmt.Sprintf(msgFindPANone, describeSearch(req, vocab)) + "\n\n" + msgFindPAGuides})
		return nil
	}
	var b strings.Builder
	if dropped != "" {
		fmt.Fprintf(&b, msgFindPADropped+"\n\n", dropped)
	}
	fmt.Fprintf(&b, msgFindPAFound, describeSearch(req, vocab), req.Offset+1, req.Offset+len(res.Listings))
	var rows [][]Button
	for i, l := range res.Listings {
		b.WriteString("\n\n")
		writeListing(&b, req.Offset+i+1, l, vocab, t.now)
		rows = append(rows, []Button{{Label: fmt.Sprintf(labelIntroduce, l.DisplayName), Action: ActionIntroduce + l.ID}})
	}
	if res.More {
		rows = append(rows, []Button{{Label: labelMoreListings, Action: ActionMoreListings + strconv.Itoa(req.Offset+len(res.Listings))}})
	}
	b.WriteString("\n\n" + res.Notice + "\n\n" + msgFindPAGuides)
	t.reply(Reply{Text: b.String(), Buttons: rows})
	return nil
}

// writeListing writes one search result as a few short lines: who, where,
// what, when, their own account of themselves marked as such, and how
// recently they confirmed it. It never has contact details: results carry
// none.
func writeListing(b *strings.Builder, n int, l directory.Result, vocab *directory.Vocabulary, now time.Time) {
	kind := "PA"
	if l.Kind == directory.KindMicroProvider {
		kind = "micro-provider (a small local care business)"
	}
	switch l.Employment {
	case directory.SelfEmployed:
		kind += ", self-employed"
	case directory.LookingForEmployer:
		kind += ", looking for an employer"
	}
	fmt.Fprintf(b, "%d. %s: %s", n, l.DisplayName, kind)
	fmt.Fprintf(b, "\nCovers: %s", strings.Join(l.Areas, ", "))
	if len(l.Services) > 0 {
		labels := make([]string, len(l.Services))
		for i, sv := range l.Services {
			labels[i] = strings.ToLower(vocab.Label(sv.ID))
		}
		fmt.Fprintf(b, "\nOffers: %s", strings.Join(labels, ", "))
	}
	if l.Availability != "" {
		fmt.Fprintf(b, "\nAvailable: %s", l.Availability)
	}
	if len(l.Languages) > 0 {
		fmt.Fprintf(b, "\nLanguages: %s", strings.Join(l.Languages, ", "))
	}
	if l.HourlyRatePence != nil {
		fmt.Fprintf(b, "\nAsks: £%d.%02d an hour", *l.HourlyRatePence/100, *l.HourlyRatePence%100)
	}
	var own []string
	if l.Experience != "" {
		own = append(own, l.Experience)
	}
	own = append(own, l.Training...)
	if l.DBSUpdateService {
		own = append(own, "DBS check on the Update Service")
	}
	if len(own) > 0 {
		fmt.Fprintf(b, "\nIn their own words (not checked): %s", strings.Join(own, "; "))
	}
	fmt.Fprintf(b, "\nLast confirmed: %s", sinceDays(l.ConfirmedAt, now))
}

// sinceDays says how long ago t was, in days.
func sinceDays(t, now time.Time) string {
	switch d := int(now.Sub(t).Hours() / 24); {
	case d <= 0:
		return "today"
	case d == 1:
		return "yesterday"
	default:
		return fmt.Sprintf("%d days ago", d)
	}
}

// describeSearch names a search as people read it: "near EX4 offering
// personal care".
func describeSearch(r directory.SearchRequest, vocab *directory.Vocabulary) string {
	s := "near " + r.Area
	if r.Service != "" {
		s += " offering " + strings.ToLower(vocab.Label(r.Service))
	}
	if r.Q != "" {
		s += " mentioning " + strconv.Quote(r.Q)
	}
	return s
}

// askIntroNote starts an introduction to listing id: the bot asks for a
// short note to the PA.
func (s *Service) askIntroNote(t *turn, id string) {
	if s.cfg.Network == nil || id == "" {
		t.reply(Reply{Text: msgNoNetwork})
		return
	}
	t.conv.Awaiting, t.conv.Draft = awaitIntroNote+id, ""
	t.reply(Reply{Text: msgIntroAskNote, Buttons: cancelIntroRow()})
}

func cancelIntroRow() [][]Button {
	return [][]Button{{{Label: labelCancelIntro, Action: ActionCancelIntro}}}
}

// requestIntro sends the introduction request with the note kept in the
// conversation and the contact details just typed. A note or contact the
// network refuses is asked for again, with the reason.
func (s *Service) requestIntro(ctx context.Context, t *turn, listingID string) error {
	contact := parseContact(t.msg.Text)
	_, err := s.cfg.Network.RequestIntroduction(ctx, listingID, t.conv.Address.Key(), t.conv.Draft, contact)
	var inv *directory.InvalidError
	switch {
	case errors.As(err, &inv) && inv.Field == "note":
		t.conv.Awaiting, t.conv.Draft = awaitIntroNote+listingID, ""
		t.reply(Reply{Text: "Your note " + inv.Problem + ". " + msgIntroAskNote, Buttons: cancelIntroRow()})
		return nil
	case errors.As(err, &inv):
		t.reply(Reply{Text: "Your contact details " + inv.Problem + ". " + msgIntroAskContact, Buttons: cancelIntroRow()})
		return nil
	case errors.Is(err, directory.ErrRateLimited):
		t.reply(Reply{Text: msgIntroLimit})
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, directory.ErrConflict):
		t.reply(Reply{Text: msgIntroUnavailable})
	case err != nil:
		return fmt.Errorf("bot: requesting an introduction: %w", err)
	default:
		t.reply(Reply{Text: msgIntroSent})
	}
	t.conv.Awaiting, t.conv.Draft = "", ""
	return nil
}

// parseContact reads what an employer typed as their contact details: an
// email address and a phone number where it finds them, and the whole text
// as a note (so "text me after 6 on 07700 900123" keeps its "after 6").
func parseContact(text string) directory.Contact {
	var c directory.Contact
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, ".,;:()<>")
		if c.Email == "" && strings.Count(w, "@") == 1 && strings.Contains(w[strings.IndexByte(w, '@'):], ".") {
			c.Email = w
		}
	}
	c.Phone = firstPhone(text)
	c.Note = text
	return c
}

// firstPhone returns the first run of 10 to 13 digits in text (with
// spaces, hyphens, brackets and a leading "+" allowed between them),
// without its separators, or "".
func firstPhone(text string) string {
	var run strings.Builder
	digits := 0
	for _, r := range text + "." {
		switch {
		case r >= '0' && r <= '9':
			digits++
			run.WriteRune(r)
		case r == '+' && run.Len() == 0:
			run.WriteRune(r)
		case (r == ' ' || r == '-' || r == '(' || r == ')') && run.Len() > 0:
		default:
			if digits >= 10 && digits <= 13 {
				return run.String()
			}
			digits = 0
			run.Reset()
		}
	}
	return ""
}

// parseFindPA reads what someone typed after /findpa (or when asked): an
// area (a postcode district, a full postcode or a town, with or without
// "in" or "near" before it), a service from the vocabulary anywhere in
// the text, and any other words as free text. Area is empty when none was
// given; Q then holds the words that were not read as one.
func parseFindPA(text string, vocab *directory.Vocabulary) directory.SearchRequest {
	var req directory.SearchRequest
	words := strings.Fields(strings.NewReplacer(",", " ", "?", " ", "!", " ").Replace(text))
	// The longest run of words that names a service, anywhere.
	for size := min(4, len(words)); size >= 1 && req.Service == ""; size-- {
		for i := 0; i+size <= len(words); i++ {
			if id, ok := vocab.Lookup(strings.Join(words[i:i+size], " ")); ok {
				req.Service = id
				words = append(words[:i:i], words[i+size:]...)
				break
			}
		}
	}
	for len(words) > 0 && fillerWords[strings.ToLower(words[0])] {
		words = words[1:]
	}
	if len(words) == 0 {
		return req
	}
	// A district or a postcode comes first; a town is the words up to
	// the first small word ("Exeter for dementia").
	switch a, ok := directory.ParseArea(words[0]); {
	case ok && a.District != "":
		req.Area, words = a.District, words[1:]
		if len(words) > 0 {
			if b, ok := directory.ParseArea(req.Area + " " + words[0]); ok && b.District == req.Area && len(words[0]) == 3 {
				words = words[1:] // the inward half of a full postcode
			}
		}
	default:
		n := 0
		for n < len(words) && n < 3 && !fillerWords[strings.ToLower(words[n])] {
			n++
		}
		if a, ok := directory.ParseArea(strings.Join(words[:n], " ")); ok && n > 0 {
			req.Area, words = a.String(), words[n:]
		}
	}
	var rest []string
	for _, w := range words {
		if !fillerWords[strings.ToLower(w)] {
			rest = append(rest, w)
		}
	}
	req.Q = strings.Join(rest, " ")
	return req
}

// fillerWords are the small words around an area and a need that say
// nothing about either.
var fillerWords = map[string]bool{
	"in": true, "near": true, "around": true, "for": true, "with": true, "who": true, "can": true,
	"do": true, "does": true, "a": true, "an": true, "the": true, "and": true, "to": true, "help": true,
	"pa": true, "pas": true, "carer": true, "carers": true, "someone": true, "please": true, "need": true,
	"needs": true, "looking": true, "find": true, "me": true, "my": true, "i": true, "offering": true,
}

// encodeSearch and decodeSearch keep a search in the conversation, for
// "More": area, service and free text, separated by tabs.
func encodeSearch(r directory.SearchRequest) string {
	return strings.Join([]string{r.Area, r.Service, r.Q}, "\t")
}

func decodeSearch(s string) (directory.SearchRequest, bool) {
	parts := strings.Split(s, "\t")
	if len(parts) != 3 || parts[0] == "" {
		return directory.SearchRequest{}, false
	}
	return directory.SearchRequest{Area: parts[0], Service: parts[1], Q: parts[2]}, true
}

//go:embed findpa.txt
var findPATxt string

// findPAPhrases are the phrases of findpa.txt, each padded with spaces so
// that it matches whole words.
var findPAPhrases = func() []string {
	var out []string
	for _, line := range strings.Split(findPATxt, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, " "+line+" ")
		}
	}
	return out
}()

// wantsPA reports whether a message asks to find a PA or carer (see
// findpa.txt).
func wantsPA(text string) bool {
	padded := " " + strings.Join(strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}), " ") + " "
	for _, p := range findPAPhrases {
		if strings.Contains(padded, p) {
			return true
		}
	}
	return false
}

// offerSearch puts a "Search the PA network" button at the top of r when
// the service runs a network and the person asked to find a PA.
func (s *Service) offerSearch(r Reply, text string) Reply {
	if s.cfg.Network == nil || !wantsPA(text) {
		return r
	}
	r.Buttons = append([][]Button{{{Label: labelFindPA, Action: ActionFindPA}}}, r.Buttons...)
	return r
}
