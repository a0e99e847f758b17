package bot

import "context"

// Leader lets one process, among those sharing a store, do a job that only
// one may do at a time (long-polling Telegram: the Bot API refuses two
// pollers of one bot).
type Leader interface {
	// Lead tries to take the role called name, without waiting. It reports
	// false when another process holds it. While this process holds it,
	// lost is closed if the hold is lost (the database connection broke);
	// release gives the role up and may be called more than once. The role
	// is also given up when the process dies, so that another can take it.
	Lead(ctx context.Context, name string) (lost <-chan struct{}, release func(), ok bool, err error)
}
