package telegram

import (
	"context"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// dispatcher hands updates to a fixed set of workers. Updates from one chat
// always go to the same worker, so they are handled in the order received,
// while different chats are handled concurrently.
type dispatcher struct {
	queues []chan tgbotapi.Update
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

// newDispatcher starts workers goroutines, each calling handle for the
// updates queued to it, with room for queueSize waiting updates each.
func newDispatcher(ctx context.Context, workers, queueSize int, handle func(context.Context, tgbotapi.Update)) *dispatcher {
	d := &dispatcher{queues: make([]chan tgbotapi.Update, workers)}
	for i := range d.queues {
		q := make(chan tgbotapi.Update, queueSize)
		d.queues[i] = q
		d.wg.Go(func() {
			for u := range q {
				handle(ctx, u)
			}
		})
	}
	return d
}

func (d *dispatcher) queue(u tgbotapi.Update) chan tgbotapi.Update {
	k := chatKey(u)
	if k < 0 {
		k = -k
	}
	if k < 0 { // math.MinInt64
		k = 0
	}
	return d.queues[k%int64(len(d.queues))]
}

// offer queues u without waiting. It returns false when the dispatcher is
// closed or u's worker has no room.
func (d *dispatcher) offer(u tgbotapi.Update) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false
	}
	select {
	case d.queue(u) <- u:
		return true
	default:
		return false
	}
}

// put queues u, waiting for room until ctx ends. It must not be called
// concurrently with close.
func (d *dispatcher) put(ctx context.Context, u tgbotapi.Update) bool {
	select {
	case d.queue(u) <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

// close stops intake; the workers finish what is queued and then exit.
func (d *dispatcher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	for _, q := range d.queues {
		close(q)
	}
}

// wait blocks until every worker has exited.
func (d *dispatcher) wait() { d.wg.Wait() }

// chatKey is the chat an update belongs to, for ordering.
func chatKey(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	}
	return int64(u.UpdateID)
}
