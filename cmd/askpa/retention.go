package main

import (
	"fmt"
	"time"

	"github.com/askpa/askpa/retention"
)

// retentionVars are the environment variables of the retention policy, in
// the README's order, each with the field it sets.
var retentionVars = []struct {
	name  string
	field func(*retention.Policy) *time.Duration
}{
	{"ASKPA_RETAIN_CONVERSATIONS", func(p *retention.Policy) *time.Duration { return &p.Conversations }},
	{"ASKPA_RETAIN_ESCALATIONS", func(p *retention.Policy) *time.Duration { return &p.Escalations }},
	{"ASKPA_RETAIN_PAYLOADS", func(p *retention.Policy) *time.Duration { return &p.Payloads }},
	{"ASKPA_RETAIN_DEDUP", func(p *retention.Policy) *time.Duration { return &p.Seen }},
	{"ASKPA_RETAIN_MAILBOX", func(p *retention.Policy) *time.Duration { return &p.Mail }},
	{"ASKPA_RETAIN_INTRODUCTIONS", func(p *retention.Policy) *time.Duration { return &p.Introductions }},
}

// retentionPolicy reads the retention policy from the environment: each
// variable is a Go duration (720h) or a number of days (30d); unset ones
// take the defaults. It returns an error naming the variable that is
// malformed or shorter than its safe minimum.
func retentionPolicy(getenv env) (retention.Policy, error) {
	var p retention.Policy
	minimum := retention.MinimumPolicy()
	for _, v := range retentionVars {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		d, err := retention.ParseDuration(s)
		if err != nil {
			return retention.Policy{}, fmt.Errorf("%s: %w", v.name, err)
		}
		if least := *v.field(&minimum); d < least {
			return retention.Policy{}, fmt.Errorf("%s=%s is shorter than the safe minimum of %s", v.name, s, retention.Words(least))
		}
		*v.field(&p) = d
	}
	return p.WithDefaults(), nil
}
