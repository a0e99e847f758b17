package safety

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Thresholds say how sure the classifier must be before Check acts. They
// are chosen by the trainer on the validation split (see Train) and
// written, with the figures behind them, to thresholds.txt.
type Thresholds struct {
	// UrgentCrisis and UrgentSafeguarding: the probability of the group at
	// or above which the message is urgent. CautionCrisis and
	// CautionSafeguarding: at or above which it gets the signposting line.
	UrgentCrisis, UrgentSafeguarding   float64
	CautionCrisis, CautionSafeguarding float64
	// Requested, Dispute, OffTopic and Situation: the probability of that
	// kind at or above which Check reports it.
	Requested, Dispute, OffTopic, Situation float64
}

// thresholdNames maps the names in thresholds.txt to their fields.
func (t *Thresholds) fields() map[string]*float64 {
	return map[string]*float64{
		"urgent-crisis": &t.UrgentCrisis, "urgent-safeguarding": &t.UrgentSafeguarding,
		"caution-crisis": &t.CautionCrisis, "caution-safeguarding": &t.CautionSafeguarding,
		"requested": &t.Requested, "dispute": &t.Dispute, "offtopic": &t.OffTopic, "situation": &t.Situation,
	}
}

// parseThresholds reads thresholds.txt: "name value" a line, "#" comments.
// Every threshold must be given once, between 0 and 1, and caution must not
// be above urgent.
func parseThresholds(file string, data []byte) (Thresholds, error) {
	var t Thresholds
	fields := t.fields()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		p, ok := fields[f[0]]
		if !ok || len(f) != 2 {
			return t, fmt.Errorf("%s:%d: want one of the threshold names and a value", file, line)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || v <= 0 || v >= 1 {
			return t, fmt.Errorf("%s:%d: %s: %q is not a probability between 0 and 1", file, line, f[0], f[1])
		}
		if seen[f[0]] {
			return t, fmt.Errorf("%s:%d: %s is given twice", file, line, f[0])
		}
		seen[f[0]] = true
		*p = v
	}
	for name := range fields {
		if !seen[name] {
			return t, fmt.Errorf("%s: %s is missing", file, name)
		}
	}
	if t.CautionCrisis > t.UrgentCrisis || t.CautionSafeguarding > t.UrgentSafeguarding {
		return t, fmt.Errorf("%s: a caution threshold is above its urgent one", file)
	}
	return t, nil
}
