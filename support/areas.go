package support

import (
	"context"
	"slices"
	"strings"
)

// ForAreas returns t limited to the escalations of areas (Escalation.Area,
// local pack ids): it is told of the WebhookEvents (or, when t is a Filter,
// the events t accepts) of those escalations only. Its name is t's with the
// areas, so that the outbox keeps its deliveries apart from an unlimited
// target at the same address. With no areas it returns t.
func ForAreas(t Target, areas []string) Target {
	if len(areas) == 0 {
		return t
	}
	return areaTarget{Target: t, areas: slices.Clone(areas)}
}

type areaTarget struct {
	Target
	areas []string
}

func (a areaTarget) Name() string { return a.Target.Name() + " for " + strings.Join(a.areas, "+") }

func (a areaTarget) Deliver(ctx context.Context, ev Event) error { return a.Target.Deliver(ctx, ev) }

func (a areaTarget) Accepts(ev Event) bool {
	return slices.Contains(a.areas, ev.Escalation.Area) && accepts(a.Target, ev)
}
