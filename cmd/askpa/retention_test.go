package main

import (
	"strings"
	"testing"

	"github.com/askpa/askpa/retention"
)

func TestRetentionPolicy(t *testing.T) {
	p, err := retentionPolicy(func(string) string { return "" })
	if err != nil || p != retention.DefaultPolicy() {
		t.Errorf("no variables: %+v, %v; want the defaults", p, err)
	}
	env := map[string]string{"ASKPA_RETAIN_CONVERSATIONS": "14d", "ASKPA_RETAIN_DEDUP": "72h", "ASKPA_RETAIN_MAILBOX": "2160h"}
	p, err = retentionPolicy(func(k string) string { return env[k] })
	want := retention.DefaultPolicy()
	want.Conversations, want.Seen, want.Mail = 14*retention.Day, 3*retention.Day, 90*retention.Day
	if err != nil || p != want {
		t.Errorf("policy %+v, %v; want %+v", p, err, want)
	}
	for name, value := range map[string]string{
		"ASKPA_RETAIN_DEDUP":         "12h",
		"ASKPA_RETAIN_CONVERSATIONS": "2h",
		"ASKPA_RETAIN_ESCALATIONS":   "7d",
		"ASKPA_RETAIN_PAYLOADS":      "a week",
		"ASKPA_RETAIN_MAILBOX":       "-30d",
	} {
		_, err := retentionPolicy(func(k string) string {
			if k == name {
				return value
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s=%s: %v; want an error naming the variable", name, value, err)
		}
	}
}
