package httpapi

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/askpa/askpa/knowledge"
)

// Guides finds the documents of the knowledge base; *knowledge.Base is one.
type Guides interface {
	Document(id string) *knowledge.Document
}

var guidePage = template.Must(template.New("guide").Parse(`<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - askpa</title>
<style>
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:42rem;margin:1rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.25rem .5rem}
.summary{font-size:1.1rem}.reviewed,.note{color:#555;font-size:.9rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{.Body}}
<p class="note">askpa covers England only. For your own situation, ask your council's direct payments team or your direct payment support service.</p>
</body>
</html>
`))

// guide serves GET /guides/{id}: one document of the knowledge base as a
// readable page, so answers can link to the whole guide.
func (s *server) guide(c *gin.Context) {
	d := s.cfg.Guides.Document(c.Param("id"))
	if d == nil {
		fail(c, http.StatusNotFound, "There is no guide with that name.")
		return
	}
	var body bytes.Buffer
	if err := d.WriteHTML(&body); err != nil {
		s.failErr(c, err)
		return
	}
	var page bytes.Buffer
	// The body is the renderer's own output: Markdown with raw HTML dropped
	// and all text escaped.
	if err := guidePage.Execute(&page, struct {
		Title string
		Body  template.HTML
	}{d.Title, template.HTML(body.String())}); err != nil {
		s.failErr(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page.Bytes())
}
