// Package httperr writes HTTP errors in the form askpa's API uses
// everywhere: a JSON object {"error": "a sentence"}.
package httperr

import (
	"encoding/json"
	"net/http"
)

// Write answers w with status and {"error": msg}.
func Write(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
