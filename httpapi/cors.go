package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Headers a browser may send to the web channel from another origin.
const corsAllowHeaders = "Authorization, Content-Type, " + HeaderUserAssertion

// parseOrigins checks and normalises Config.AllowedOrigins: each must be
// an origin, scheme://host[:port] with scheme http or https and nothing
// after the host ("*" is refused: origins are listed one by one).
func parseOrigins(list []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, o := range list {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") {
			return nil, fmt.Errorf("httpapi: allowed origin %q is not an origin such as https://www.example.gov.uk", o)
		}
		out[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return out, nil
}

// cors lets the pages of AllowedOrigins call the web channel (paths under
// /v1/) from a browser: an answer to a listed origin names it in
// Access-Control-Allow-Origin; others get no CORS headers, so their
// browsers withhold the answer. With no origins listed it adds nothing.
// Credentials are bearer tokens and assertions in headers, never cookies,
// so Access-Control-Allow-Credentials is never sent.
func (s *server) cors(c *gin.Context) {
	if len(s.origins) == 0 || !strings.HasPrefix(c.Request.URL.Path, "/v1/") {
		c.Next()
		return
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	if o := c.GetHeader("Origin"); o != "" && s.origins[strings.ToLower(o)] {
		h.Set("Access-Control-Allow-Origin", o)
		if c.Request.Method != http.MethodOptions {
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
		}
	}
	c.Next()
}

// preflight answers a CORS preflight request (OPTIONS) for a path served
// with methods: 204, with the methods and headers allowed when cors
// accepted the origin, and with no CORS headers otherwise.
func preflight(methods string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		if h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
		}
		c.Status(http.StatusNoContent)
	}
}
