package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/askpa/askpa/internal/httperr"
)

// maxUpdateBytes bounds a webhook request body; updates are a few KB.
const maxUpdateBytes = 1 << 20

// WebhookHandler returns the handler to mount at POST WebhookPath
// (/webhooks/telegram) in webhook mode. A request without the configured
// secret token in X-Telegram-Bot-Api-Secret-Token is refused with 401 and
// has no effect. A valid update is written to the intake and only then
// answered 200; it is handled afterwards by the workers of Run (in this
// process or another sharing the store). The handler answers 405 to other
// methods, 400 to a body that is not an update, 413 to one over 1 MiB, 503
// when the intake cannot be written (Telegram then delivers the update
// again later), all with a JSON body {"error": ...} like the rest of the
// API, and 404 when the channel is not in webhook mode.
func (c *Channel) WebhookHandler() http.Handler {
	return http.HandlerFunc(c.serveWebhook)
}

func (c *Channel) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if !c.WebhookMode() {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httperr.Write(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	got := r.Header.Get(SecretHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.cfg.WebhookSecret)) != 1 {
		httperr.Write(w, http.StatusUnauthorized, "Unauthorized.")
		return
	}
	var u tgbotapi.Update
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
	if err := dec.Decode(&u); err != nil || u.UpdateID == 0 {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httperr.Write(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The update is larger than %d bytes.", tooBig.Limit))
			return
		}
		httperr.Write(w, http.StatusBadRequest, "Not a Telegram update.")
		return
	}
	if err := c.saveUpdate(r.Context(), u); err != nil {
		// Not acknowledged: Telegram delivers it again later.
		c.log.Error("telegram: webhook update not written to the intake", "update_id", u.UpdateID, "error", err)
		w.Header().Set("Retry-After", "1")
		httperr.Write(w, http.StatusServiceUnavailable, "Not stored; try again.")
		return
	}
	w.WriteHeader(http.StatusOK)
}
