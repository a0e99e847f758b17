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
	env := map[string]string{"ASKPA_RETAIN_CONVERSATIONS": "14d", "ASKPA_RETAIN_DEDUP": "72h", "ASKPA_RETAIN_MAILBOX": "2160h",
		"ASKPA_RETAIN_INTRODUCTIONS": "30d"}
	p, err = retentionPolicy(func(k string) string { return env[k] })
	want := retention.DefaultPolicy()
	want.Conversations, want.Seen, want.Mail = 14*retention.Day, 3*retention.Day, 90*retention.Day
	want.Introductions = 30 * retention.Day
	if err != nil || p != want {
		t.Errorf("policy %+v, %v; want %+v", p, err, want)
	}
	for _, tc := range []struct{ name, value, says string }{
		{"ASKPA_RETAIN_DEDUP", "12h", "shorter than the safe minimum of 1 day"},
		{"ASKPA_RETAIN_CONVERSATIONS", "2h", "shorter than the safe minimum of 1 day"},
		{"ASKPA_RETAIN_ESCALATIONS", "7d", "shorter than the safe minimum of 30 days"},
		{"ASKPA_RETAIN_PAYLOADS", "a week", `"a week" is not a duration like 720h or 30d`},
		{"ASKPA_RETAIN_MAILBOX", "-30d", "is not a number of days"},
		// Introductions wait a week for an answer: kept at least that.
		{"ASKPA_RETAIN_INTRODUCTIONS", "6d", "ASKPA_RETAIN_INTRODUCTIONS=6d is shorter than the safe minimum of 7 days"},
		{"ASKPA_RETAIN_INTRODUCTIONS", "90", `"90" is not a duration like 720h or 30d`},
		{"ASKPA_RETAIN_INTRODUCTIONS", "-90d", "is not a number of days"},
		{"ASKPA_RETAIN_INTRODUCTIONS", "0.5y", "is not a duration"},
	} {
		_, err := retentionPolicy(func(k string) string {
			if k == tc.name {
				return tc.value
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s=%s: %v; want an error naming the variable and saying %q", tc.name, tc.value, err, tc.says)
		}
	}
	// The shortest period allowed is accepted.
	p, err = retentionPolicy(func(k string) string {
		if k == "ASKPA_RETAIN_INTRODUCTIONS" {
			return "168h"
		}
		return ""
	})
	if err != nil || p.Introductions != 7*retention.Day {
		t.Errorf("ASKPA_RETAIN_INTRODUCTIONS=168h: %+v, %v; want 7 days", p, err)
	}
}
