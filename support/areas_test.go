package support

import (
	"context"
	"testing"
)

type namedTarget string

func (n namedTarget) Name() string                         { return string(n) }
func (n namedTarget) Deliver(context.Context, Event) error { return nil }

// TestForAreas: a target limited to areas accepts the usual events of
// those areas' escalations only, under a name of its own.
func TestForAreas(t *testing.T) {
	hook := namedTarget("webhook:https://hooks.example/askpa")
	devon := ForAreas(hook, []string{"devon"})
	if ForAreas(hook, nil) != Target(hook) {
		t.Error("ForAreas with no areas changed the target")
	}
	if devon.Name() == hook.Name() {
		t.Errorf("the limited target shares the name %q", devon.Name())
	}
	for _, tc := range []struct {
		area, event string
		want        bool
	}{{"devon", EventCreated, true}, {"somerset", EventCreated, false}, {"", EventCreated, false}, {"devon", "no.such.event", false}} {
		ev := Event{Name: tc.event, Escalation: Escalation{Area: tc.area}}
		if got := accepts(devon, ev); got != tc.want {
			t.Errorf("%s for area %q: accepted %v, want %v", tc.event, tc.area, got, tc.want)
		}
	}
}
