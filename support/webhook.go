package support

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers, both ways.
const (
	HeaderEvent     = "X-Askpa-Event"
	HeaderDelivery  = "X-Askpa-Delivery"
	HeaderTimestamp = "X-Askpa-Timestamp"
	HeaderSignature = "X-Askpa-Signature"
)

// MaxSkew is how far a signed webhook's timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Errors from Verify.
var (
	// ErrBadSignature reports a missing, malformed or wrong signature.
	ErrBadSignature = errors.New("webhook signature does not match")
	// ErrStale reports a timestamp more than MaxSkew from now.
	ErrStale = errors.New("webhook timestamp is too old or too far ahead")
)

// Sign returns the X-Askpa-Signature value for body sent at ts (Unix
// seconds): "sha256=" and the hex HMAC-SHA256 of ts + "." + body under
// secret.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signed webhook: timestamp is the X-Askpa-Timestamp header,
// signature the X-Askpa-Signature header. It returns ErrBadSignature for a
// missing or wrong signature or timestamp, and ErrStale for a timestamp more
// than MaxSkew away from now. The comparison takes constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp is not Unix seconds", ErrBadSignature)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	return nil
}

// Webhook is a Target that POSTs each event, signed, to one URL. It treats
// any 2xx answer as delivered and anything else as a failure to retry.
type Webhook struct {
	url    string
	name   string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// WebhookTimeout is the default time limit of one webhook attempt.
const WebhookTimeout = 10 * time.Second

// NewWebhook returns a Target posting to rawURL, signing with secret. client
// nil means an http.Client with WebhookTimeout. It returns an error for a
// URL that is not absolute http or https.
func NewWebhook(rawURL string, secret []byte, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("support: webhook URL %q is not an absolute http(s) URL", redact(rawURL))
	}
	if client == nil {
		client = &http.Client{Timeout: WebhookTimeout}
	}
	return &Webhook{url: u.String(), name: "webhook:" + redact(u.String()), secret: secret, client: client, now: time.Now}, nil
}

// redact drops what a URL may carry in secret (user info, query, fragment).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// Name returns "webhook:" and the URL without credentials or query.
func (w *Webhook) Name() string { return w.name }

// Deliver POSTs ev as JSON with the X-Askpa-* headers, signed with a fresh
// timestamp. It returns an error naming the HTTP status for a non-2xx
// answer.
func (w *Webhook) Deliver(ctx context.Context, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return Permanent(fmt.Errorf("encode event: %w", err))
	}
	ts := w.now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "askpa-webhooks/1")
	req.Header.Set(HeaderEvent, ev.Name)
	req.Header.Set(HeaderDelivery, ev.DeliveryID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error repeats the URL, which may hold a secret.
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
