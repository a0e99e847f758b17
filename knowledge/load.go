package knowledge

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"go.abhg.dev/goldmark/frontmatter"
	"gopkg.in/yaml.v3"
)

// Limits and file names of a knowledge base.
const (
	// MaxSectionChars is the longest a section's plain text may be and still
	// read as one chat message on a phone.
	MaxSectionChars = 1400
	// ReviewMaxAge is how old a document's review date may be before lint
	// asks for it to be checked again.
	ReviewMaxAge = 18 * 30 * 24 * time.Hour
	// TopicsFile lists the topics documents may name, at the root.
	TopicsFile = "topics.yaml"
	// SynonymsFile lists synonym groups, one per line, at the root.
	SynonymsFile = "synonyms.txt"
)

var (
	idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	md        = goldmark.New(
		goldmark.WithExtensions(extension.Table, &frontmatter.Extender{Formats: []frontmatter.Format{frontmatter.YAML}}),
	)
)

// frontMatter mirrors the YAML front matter of a document.
type frontMatter struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Kind      Kind     `yaml:"kind"`
	Audience  Audience `yaml:"audience"`
	Topics    []string `yaml:"topics"`
	Summary   string   `yaml:"summary"`
	Reviewed  string   `yaml:"reviewed"`
	Sources   []string `yaml:"sources"`
	Questions []string `yaml:"questions"`
}

var requiredFields = []string{"id", "title", "kind", "audience", "topics", "summary", "reviewed", "sources", "questions"}

// Load reads the knowledge base in fsys: every "*.md" file below its root,
// plus topics.yaml and synonyms.txt at the root. It returns a ProblemsError
// when any file cannot be understood (bad front matter, a missing or
// duplicate id, an unknown kind or audience, no sections); lesser problems,
// which Lint reports, do not stop it.
func Load(fsys fs.FS) (*Base, error) {
	b, problems := Check(fsys, time.Time{})
	var fatal ProblemsError
	for _, p := range problems {
		if p.Fatal {
			fatal = append(fatal, p)
		}
	}
	if len(fatal) > 0 {
		return nil, fatal
	}
	return b, nil
}

// Lint validates the knowledge base in fsys and returns every problem found,
// in file and line order. now is the date review dates are judged against.
func Lint(fsys fs.FS, now time.Time) []Problem {
	_, problems := Check(fsys, now)
	return problems
}

// Check loads what it can of the knowledge base in fsys and reports every
// problem found. Documents with fatal problems are left out of the Base. A
// zero now skips the rules about review dates.
func Check(fsys fs.FS, now time.Time) (*Base, []Problem) {
	c := &checker{fsys: fsys, now: now, hash: sha256.New()}
	c.run()
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return c.base, c.problems
}

type checker struct {
	fsys     fs.FS
	now      time.Time
	hash     hash.Hash
	base     *Base
	problems []Problem
	links    []link
}

// link is a relative link found in a document, checked once all are loaded.
type link struct {
	file, dest string
	line       int
}

func (c *checker) add(file string, line int, rule string, fatal bool, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...), Fatal: fatal})
}

func (c *checker) run() {
	c.base = &Base{byID: map[string]*Document{}}

	var files []string
	err := fs.WalkDir(c.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") && !strings.EqualFold(path.Base(p), "README.md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		c.add(".", 0, "unreadable", true, "cannot list the knowledge base: %v", err)
		return
	}
	if len(files) == 0 {
		c.add(".", 0, "empty", true, "no Markdown documents found")
	}
	sort.Strings(files)

	c.loadTopics()
	c.loadSynonyms()
	known := map[string]bool{}
	for _, t := range c.base.Topics {
		known[t.ID] = true
	}

	firstFile := map[string]string{}
	for _, f := range files {
		doc := c.loadDocument(f, known)
		if doc == nil {
			continue
		}
		if prev, dup := firstFile[doc.ID]; dup {
			c.add(f, 2, "duplicate-id", true, "id %q is already used by %s", doc.ID, prev)
			continue
		}
		firstFile[doc.ID] = f
		c.base.Documents = append(c.base.Documents, doc)
		c.base.byID[doc.ID] = doc
	}
	c.checkLinks()
	c.base.Hash = hex.EncodeToString(c.hash.Sum(nil))
}

func (c *checker) read(name string) ([]byte, bool) {
	data, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.add(name, 0, "unreadable", true, "cannot read: %v", err)
		}
		return nil, false
	}
	fmt.Fprintf(c.hash, "%s\x00%d\x00", name, len(data))
	c.hash.Write(data)
	return data, true
}

func (c *checker) loadTopics() {
	data, ok := c.read(TopicsFile)
	if !ok {
		return
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		c.add(TopicsFile, yamlErrLine(err, 0), "bad-yaml", true, "%s", yamlErrText(err))
		return
	}
	var list []struct {
		ID       string   `yaml:"id"`
		Label    string   `yaml:"label"`
		Audience Audience `yaml:"audience"`
	}
	if err := root.Decode(&list); err != nil {
		c.add(TopicsFile, yamlErrLine(err, 0), "bad-yaml", true, "want a list of {id, label, audience}: %s", yamlErrText(err))
		return
	}
	items := root.Content
	if len(items) == 1 && items[0].Kind == yaml.SequenceNode {
		items = items[0].Content
	}
	seen := map[string]bool{}
	for i, t := range list {
		line := 0
		if i < len(items) {
			line = items[i].Line
		}
		switch {
		case !idPattern.MatchString(t.ID):
			c.add(TopicsFile, line, "bad-topic", false, "topic id %q must be lower case words joined by hyphens", t.ID)
		case seen[t.ID]:
			c.add(TopicsFile, line, "duplicate-topic", false, "topic %q is listed twice", t.ID)
		case t.Label == "":
			c.add(TopicsFile, line, "bad-topic", false, "topic %q has no label", t.ID)
		case !t.Audience.Valid():
			c.add(TopicsFile, line, "bad-audience", false, "topic %q: audience %q is not one of employer, pa, both", t.ID, t.Audience)
		}
		seen[t.ID] = true
		c.base.Topics = append(c.base.Topics, Topic{ID: t.ID, Label: t.Label, Audience: t.Audience})
	}
}

func (c *checker) loadSynonyms() {
	data, ok := c.read(SynonymsFile)
	if !ok {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	owner := map[string]int{} // term -> line that first listed it
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var group []string
		for _, term := range strings.Split(line, ",") {
			term = strings.Join(strings.Fields(strings.ToLower(term)), " ")
			if term == "" {
				continue
			}
			if first, dup := owner[term]; dup {
				c.add(SynonymsFile, n, "duplicate-synonym", false, "%q is already in the group on line %d", term, first)
				continue
			}
			owner[term] = n
			group = append(group, term)
		}
		if len(group) < 2 {
			c.add(SynonymsFile, n, "bad-synonym", false, "a synonym group needs at least two comma-separated terms")
			continue
		}
		c.base.Synonyms = append(c.base.Synonyms, group)
	}
}

// loadDocument parses one document, reporting its problems. It returns nil
// when the document has a fatal problem.
func (c *checker) loadDocument(file string, knownTopics map[string]bool) *Document {
	src, ok := c.read(file)
	if !ok {
		return nil
	}
	lines := newLineIndex(src)
	if !bytes.HasPrefix(src, []byte("---")) {
		c.add(file, 1, "no-front-matter", true, "the file must start with YAML front matter between --- lines")
		return nil
	}
	if bytes.Count(src, []byte("\n---")) == 0 {
		c.add(file, 1, "no-front-matter", true, "the front matter that starts on line 1 is never closed with a --- line")
		return nil
	}

	pc := parser.NewContext()
	root := md.Parser().Parse(text.NewReader(src), parser.WithContext(pc))
	fmData := frontmatter.Get(pc)
	if fmData == nil {
		c.add(file, 1, "no-front-matter", true, "the file must start with YAML front matter between --- lines")
		return nil
	}
	var node yaml.Node
	if err := fmData.Decode(&node); err != nil {
		c.add(file, yamlErrLine(err, 1), "bad-yaml", true, "front matter: %s", yamlErrText(err))
		return nil
	}
	var fm frontMatter
	if err := node.Decode(&fm); err != nil {
		c.add(file, yamlErrLine(err, 1), "bad-yaml", true, "front matter: %s", yamlErrText(err))
		return nil
	}
	keys := fieldLines(&node) // field -> line in the file

	// Fields.
	present := func(f string) bool { _, ok := keys[f]; return ok }
	for _, f := range requiredFields {
		if !present(f) {
			fatal := f == "id" || f == "title" || f == "kind" || f == "audience"
			c.add(file, 1, "missing-field", fatal, "front matter has no %q field", f)
		}
	}
	for k, line := range keys {
		if !isKnownField(k) {
			c.add(file, line, "unknown-field", false, "unknown front-matter field %q (known: %s)", k, strings.Join(requiredFields, ", "))
		}
	}
	fatal := false
	if present("id") && !idPattern.MatchString(fm.ID) {
		c.add(file, keys["id"], "bad-id", true, "id %q must be lower case words joined by hyphens", fm.ID)
		fatal = true
	}
	if present("title") && strings.TrimSpace(fm.Title) == "" {
		c.add(file, keys["title"], "missing-field", true, "title is empty")
		fatal = true
	}
	if present("kind") && !fm.Kind.Valid() {
		c.add(file, keys["kind"], "bad-kind", true, "kind %q is not one of %s", fm.Kind, kindList())
		fatal = true
	}
	if present("audience") && !fm.Audience.Valid() {
		c.add(file, keys["audience"], "bad-audience", true, "audience %q is not one of employer, pa, both", fm.Audience)
		fatal = true
	}
	if present("summary") && strings.TrimSpace(fm.Summary) == "" {
		c.add(file, keys["summary"], "missing-field", false, "summary is empty")
	}
	if present("topics") && len(fm.Topics) == 0 {
		c.add(file, keys["topics"], "missing-field", false, "topics is empty")
	}
	if knownTopics != nil && len(knownTopics) > 0 {
		for _, t := range fm.Topics {
			if !knownTopics[t] {
				c.add(file, keys["topics"], "unknown-topic", false, "topic %q is not listed in %s", t, TopicsFile)
			}
		}
	}
	if present("sources") && len(fm.Sources) == 0 {
		c.add(file, keys["sources"], "missing-field", false, "sources is empty: name where the facts come from")
	}
	for _, s := range fm.Sources {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.add(file, keys["sources"], "bad-source", false, "source %q is not an http(s) URL", s)
		}
	}
	if present("questions") && len(fm.Questions) == 0 {
		c.add(file, keys["questions"], "missing-field", false, "questions is empty: add a few ways people ask this")
	}
	var reviewed time.Time
	if present("reviewed") {
		var err error
		reviewed, err = time.Parse(time.DateOnly, strings.TrimSpace(fm.Reviewed))
		switch {
		case err != nil:
			c.add(file, keys["reviewed"], "bad-date", false, "reviewed %q is not a date like 2026-11-01", fm.Reviewed)
		case !c.now.IsZero() && reviewed.After(c.now):
			c.add(file, keys["reviewed"], "future-review", false, "reviewed date %s is in the future", fm.Reviewed)
		case !c.now.IsZero() && c.now.Sub(reviewed) > ReviewMaxAge:
			c.add(file, keys["reviewed"], "stale-review", false, "reviewed %s is more than 18 months ago: check the facts and update it", fm.Reviewed)
		}
	}
	if fatal || !present("id") || !present("title") || !present("kind") || !present("audience") {
		return nil
	}

	doc := &Document{
		ID: fm.ID, Title: strings.TrimSpace(fm.Title), Kind: fm.Kind, Audience: fm.Audience,
		Topics: fm.Topics, Summary: strings.TrimSpace(fm.Summary), Reviewed: reviewed,
		Sources: fm.Sources, Questions: fm.Questions, Path: file,
	}
	c.sections(doc, root, src, lines)
	if len(doc.Sections) == 0 {
		c.add(file, lines.end(), "no-sections", true, "the document has no text to answer from")
		return nil
	}
	return doc
}

// sections splits the document body at its level-2 headings. Text before the
// first one becomes an opening section titled like the document.
func (c *checker) sections(doc *Document, root ast.Node, src []byte, lines lineIndex) {
	type span struct {
		heading   string
		anchor    string
		line      int // line of the heading, or of the first text
		bodyStart int // first line of the body
		nodes     []ast.Node
	}
	var spans []*span
	for n := root.FirstChild(); n != nil; n = n.NextSibling() {
		if h, ok := n.(*ast.Heading); ok && h.Level <= 2 {
			line := lines.line(nearestStart(n))
			if h.Level == 1 {
				c.add(doc.Path, line, "h1-heading", false, "use the title field, not a level-1 heading; sections start with ##")
			}
			heading := plainInline(h, src)
			spans = append(spans, &span{heading: heading, anchor: Slug(heading), line: line, bodyStart: line + 1})
			continue
		}
		if len(spans) == 0 {
			line := lines.line(nearestStart(n))
			spans = append(spans, &span{heading: doc.Title, line: line, bodyStart: line})
		}
		s := spans[len(spans)-1]
		s.nodes = append(s.nodes, n)
	}
	seen := map[string]int{}
	for i, s := range spans {
		if prev, dup := seen[s.anchor]; dup {
			c.add(doc.Path, s.line, "duplicate-heading", false, "heading %q repeats the one on line %d", s.heading, prev)
		}
		seen[s.anchor] = s.line
		var parts []string
		for _, n := range s.nodes {
			if t := plainBlock(n, src); t != "" {
				parts = append(parts, t)
			}
			c.collectLinks(doc.Path, n, lines)
		}
		body := strings.Join(parts, "\n\n")
		switch n := len([]rune(body)); {
		case n == 0:
			c.add(doc.Path, s.line, "empty-section", false, "section %q has no text", s.heading)
			continue
		case n > MaxSectionChars:
			c.add(doc.Path, s.line, "long-section", false, "section %q is %d characters; keep it under %d so it reads as one chat answer (split it)", s.heading, n, MaxSectionChars)
		}
		endLine := lines.end() + 1
		if i+1 < len(spans) {
			endLine = spans[i+1].line
		}
		doc.Sections = append(doc.Sections, Section{
			Heading: s.heading, Anchor: s.anchor, Text: body,
			Markdown: strings.TrimSpace(lines.slice(src, s.bodyStart, endLine)), Line: s.line,
		})
	}
}

func (c *checker) collectLinks(file string, n ast.Node, lines lineIndex) {
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if l, ok := n.(*ast.Link); ok {
			c.links = append(c.links, link{file: file, dest: string(l.Destination), line: lines.line(nearestStart(l))})
		}
		return ast.WalkContinue, nil
	})
}

// checkLinks reports relative links whose target file or section is missing.
func (c *checker) checkLinks() {
	for _, l := range c.links {
		u, err := url.Parse(l.dest)
		if err != nil {
			c.add(l.file, l.line, "broken-link", false, "link %q cannot be parsed: %v", l.dest, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" {
			continue
		}
		target := l.file
		if u.Path != "" {
			target = path.Join(path.Dir(l.file), u.Path)
			if _, err := fs.Stat(c.fsys, target); err != nil {
				c.add(l.file, l.line, "broken-link", false, "link %q points to %s, which does not exist", l.dest, target)
				continue
			}
		}
		if u.Fragment == "" {
			continue
		}
		var doc *Document
		for _, d := range c.base.Documents {
			if d.Path == target {
				doc = d
			}
		}
		if doc == nil {
			continue
		}
		found := false
		for _, s := range doc.Sections {
			found = found || s.Anchor == u.Fragment
		}
		if !found {
			c.add(l.file, l.line, "broken-link", false, "link %q: %s has no section #%s", l.dest, target, u.Fragment)
		}
	}
}

func isKnownField(k string) bool {
	for _, f := range requiredFields {
		if f == k {
			return true
		}
	}
	return false
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// fieldLines maps each top-level key of the front matter to its line in the
// file (the front matter starts on line 2).
func fieldLines(n *yaml.Node) map[string]int {
	m := map[string]int{}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i].Line + 1
	}
	return m
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlPrefix is what yaml.v3 puts before its messages.
var yamlPrefix = regexp.MustCompile(`^yaml: (line \d+: )?`)

// yamlErrLine extracts the line of a yaml error, shifted by offset lines.
func yamlErrLine(err error, offset int) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return offset + 1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n + offset
}

// yamlErrText is a yaml error's message without its prefix and line, which
// the problem states separately.
func yamlErrText(err error) string {
	return yamlPrefix.ReplaceAllString(err.Error(), "")
}

// Slug returns the GitHub-style anchor for a heading: lower case, letters,
// digits and hyphens, spaces turned into hyphens.
func Slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
