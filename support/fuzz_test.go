package support

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzVerify checks the signature of inbound helpdesk webhooks: a request
// is accepted only when its signature is the HMAC of its own timestamp and
// body under the secret and the timestamp is within MaxSkew; every refusal
// is ErrBadSignature or ErrStale; and whatever Sign makes, Verify accepts.
func FuzzVerify(f *testing.F) {
	secret := []byte("helpdesk-secret")
	const now = 1_700_000_000
	body := `{"escalation_id":"0190c5a8-0000-7000-8000-000000000001","text":"We will ring you tomorrow.","author":"Jo","delivery_id":"hd-1"}`
	f.Add([]byte(body), "1700000000", Sign(secret, now, []byte(body)), false)
	f.Add([]byte(body), "1700000000", "", true)
	f.Add([]byte(body), " 1699999700 ", "", true)         // 300 s old: the edge
	f.Add([]byte(body), "1699999699", "", true)           // one second too old
	f.Add([]byte(body), "+1700000000", "", true)          // a sign ParseInt takes
	f.Add([]byte(body), "1700000000", "sha256=00", false) // forged
	f.Add([]byte(body), "1700000000", strings.ToUpper(Sign(secret, now, []byte(body))), false)
	f.Add([]byte(""), "", "", false)
	f.Add([]byte("{}"), "9223372036854775807", "", true)
	f.Add([]byte("{}"), "-9223372036854775808", "", true)
	f.Fuzz(func(t *testing.T, body []byte, timestamp, signature string, signIt bool) {
		ts, tsErr := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
		if signIt && tsErr == nil {
			signature = Sign(secret, ts, body)
		}
		err := Verify(secret, timestamp, signature, body, time.Unix(now, 0))
		if err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrStale) {
			t.Fatalf("Verify: %v, want ErrBadSignature or ErrStale", err)
		}
		if tsErr != nil {
			if err == nil || !errors.Is(err, ErrBadSignature) {
				t.Fatalf("timestamp %q is not Unix seconds but Verify said %v", timestamp, err)
			}
			return
		}
		genuine := strings.TrimSpace(signature) == Sign(secret, ts, body)
		fresh := ts >= now-int64(MaxSkew/time.Second) && ts <= now+int64(MaxSkew/time.Second)
		switch {
		case !genuine && err == nil:
			t.Fatalf("forged signature %q accepted for timestamp %q", signature, timestamp)
		case !genuine && !errors.Is(err, ErrBadSignature):
			t.Fatalf("forged signature refused as %v, want ErrBadSignature", err)
		case genuine && !fresh && !errors.Is(err, ErrStale):
			t.Fatalf("stale timestamp %q: %v, want ErrStale", timestamp, err)
		case genuine && fresh && err != nil:
			t.Fatalf("genuine, fresh request refused: %v", err)
		}

		// Whatever Sign makes, Verify accepts at that time, and not with
		// another secret or another body.
		sig := Sign(secret, ts, body)
		if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
			t.Fatalf("Sign = %q", sig)
		}
		at := time.Unix(ts, 0)
		if err := Verify(secret, strconv.FormatInt(ts, 10), sig, body, at); err != nil {
			t.Fatalf("Verify refused what Sign made: %v", err)
		}
		if err := Verify([]byte("another-secret"), strconv.FormatInt(ts, 10), sig, body, at); err == nil {
			t.Fatal("a signature made with another secret was accepted")
		}
		if err := Verify(secret, strconv.FormatInt(ts, 10), sig, append(body[:len(body):len(body)], 'x'), at); err == nil {
			t.Fatal("a signature over another body was accepted")
		}
	})
}

// FuzzCursor checks the queue's list cursors: decodeCursor never panics, and
// what it accepts is a position encodeCursor makes again and gives back the
// same; what encodeCursor makes from a real position decodes to it.
func FuzzCursor(f *testing.F) {
	made := encodeCursor(Position{Rank: 1, CreatedAt: time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC), ID: "0190c5a8-0000-7000-8000-000000000001"})
	f.Add(made, 0, int64(0), "x")
	f.Add("zzz", 1, int64(1_772_357_400_000_000_000), "0190c5a8-0000-7000-8000-000000000002")
	f.Add("nonsense", 2, int64(-1), "")
	f.Add("", 0, int64(9_223_372_036_854_775_807), "id")
	f.Add("eyJyIjowLCJ0IjoxLCJpIjoiYSJ9", 0, int64(-9_223_372_036_854_775_808), "é") // {"r":0,"t":1,"i":"a"}
	f.Add("eyJyIjo1LCJ0IjoxLCJpIjoiYSJ9", -1, int64(5), "\x00")                      // rank 5
	f.Add("eyJSIjowLCJUIjoxLCJJIjoiYSIsIngiOltdfQ", 1, int64(5), "a\"b")             // other case, extra field
	f.Add("eyJyIjowLCJ0IjoxLCJpIjoiYSJ9===", 0, int64(1), "a")                       // padded
	f.Add("eyJyIjowLCJ0IjoxZTk5LCJpIjoiYSJ9", 0, int64(1), "a")                      // t: 1e99
	f.Add("eyJyIjowLCJ0IjoxLCJpIjoiXHVkODAwIn0", 0, int64(1), "a")                   // a lone surrogate
	f.Fuzz(func(t *testing.T, s string, rank int, nanos int64, id string) {
		if p, err := decodeCursor(s); err == nil {
			if p.Rank != 0 && p.Rank != 1 || p.ID == "" || !utf8.ValidString(p.ID) {
				t.Fatalf("decodeCursor(%q) = %+v: not a position in the queue", s, p)
			}
			again := encodeCursor(p)
			q, err := decodeCursor(again)
			if err != nil || q.Rank != p.Rank || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
				t.Fatalf("decodeCursor(%q) = %+v; encoded again %q, it decodes to %+v, %v", s, p, again, q, err)
			}
			if encodeCursor(q) != again {
				t.Fatalf("the encoding of %+v is not stable", p)
			}
		}

		// Positions of real escalations: rank 0 or 1, an id, a time.
		if rank != 0 && rank != 1 || id == "" || !utf8.ValidString(id) {
			return
		}
		p := Position{Rank: rank, CreatedAt: time.Unix(0, nanos).UTC(), ID: id}
		c := encodeCursor(p)
		q, err := decodeCursor(c)
		if err != nil || q.Rank != p.Rank || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
			t.Fatalf("encodeCursor(%+v) = %q decodes to %+v, %v", p, c, q, err)
		}
	})
}
