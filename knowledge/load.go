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
	"slices"
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
	Replaces  string   `yaml:"replaces"`
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
	return CheckWith(fsys, nil, now)
}

// LoadWith is Load with a local pack (nil for none): see CheckWith. It
// returns a ProblemsError when the national content or the pack's
// documents have fatal problems; the pack's area.yaml was checked when the
// pack was read.
func LoadWith(fsys fs.FS, pack *Pack) (*Base, error) {
	b, problems := CheckWith(fsys, pack, time.Time{})
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

// CheckWith is Check for the national knowledge base in fsys together with
// a local pack (nil for none). Placeholders in every document are replaced
// by the pack's values or their fallbacks. The pack's documents (Markdown
// files anywhere in it, README.md aside) join the base: one whose id is a
// national document's, or whose front matter says "replaces: ID", takes
// that national document's place; others add to it. Besides the national
// rules, CheckWith reports placeholders that are malformed or unknown,
// national ones without a fallback, local ones the pack gives no value
// for, and a "replaces" that names no national document (fatal), each
// naming the file and line.
func CheckWith(fsys fs.FS, pack *Pack, now time.Time) (*Base, []Problem) {
	c := &checker{fsys: fsys, now: now, hash: sha256.New(), pack: pack}
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
	pack     *Pack
	base     *Base
	problems []Problem
	links    []link
	// byPath finds the document loaded from each national file, or the
	// local one that replaced it; localPath those of the pack's files.
	byPath, localPath map[string]*Document
}

// link is a relative link found in a document, checked once all are loaded.
type link struct {
	doc        *Document
	file, dest string // file as problems name it; dest as written
	line       int
	local      bool   // in one of the pack's documents
	from       string // the document's path in its own folder
}

func (c *checker) add(file string, line int, rule string, fatal bool, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...), Fatal: fatal})
}

// markdownFiles lists the documents below the root of fsys, sorted.
func markdownFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") && !strings.EqualFold(path.Base(p), "README.md") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func (c *checker) run() {
	c.base = &Base{byID: map[string]*Document{}}
	c.byPath, c.localPath = map[string]*Document{}, map[string]*Document{}

	files, err := markdownFiles(c.fsys)
	if err != nil {
		c.add(".", 0, "unreadable", true, "cannot list the knowledge base: %v", err)
		return
	}
	if len(files) == 0 {
		c.add(".", 0, "empty", true, "no Markdown documents found")
	}

	c.loadTopics()
	c.loadSynonyms()
	known := map[string]bool{}
	for _, t := range c.base.Topics {
		known[t.ID] = true
	}

	firstFile := map[string]string{}
	for _, f := range files {
		doc, _ := c.loadDocument(c.fsys, f, f, known, false)
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
		c.byPath[f] = doc
	}
	if c.pack != nil {
		c.loadPack(known)
	}
	c.checkLinks()
	c.base.Hash = hex.EncodeToString(c.hash.Sum(nil))
}

// loadPack adds the pack's documents to the base, each in place of the
// national document it replaces or after the national ones.
func (c *checker) loadPack(known map[string]bool) {
	p := c.pack
	fmt.Fprintf(c.hash, "%s\x00%d\x00", p.File(AreaFile), len(p.raw))
	c.hash.Write(p.raw)
	files, err := markdownFiles(p.fsys)
	if err != nil {
		c.add(p.Name, 0, "unreadable", true, "cannot list the local pack: %v", err)
		return
	}
	national := map[string]*Document{}
	for _, d := range c.base.Documents {
		national[d.ID] = d
	}
	firstFile := map[string]string{}
	for _, f := range files {
		name := p.File(f)
		doc, replacesLine := c.loadDocument(p.fsys, f, name, known, true)
		if doc == nil {
			continue
		}
		if prev, dup := firstFile[doc.ID]; dup {
			c.add(name, 2, "duplicate-id", true, "id %q is already used by %s", doc.ID, prev)
			continue
		}
		firstFile[doc.ID] = name
		c.localPath[f] = doc
		doc.Local = p.Area.ID
		replaced := []string{doc.ID}
		if doc.Replaces != "" && doc.Replaces != doc.ID {
			replaced = append(replaced, doc.Replaces)
		}
		if doc.Replaces != "" && national[doc.Replaces] == nil {
			c.add(name, replacesLine, "unknown-replaces", true, "replaces %q, but no national document has that id", doc.Replaces)
			continue
		}
		placed := false
		for _, id := range replaced {
			old := national[id]
			if old == nil {
				continue
			}
			if doc.Replaces == "" {
				doc.Replaces = id
			}
			delete(national, id)
			delete(c.base.byID, id)
			for path, d := range c.byPath {
				if d == old {
					c.byPath[path] = doc
				}
			}
			i := slices.Index(c.base.Documents, old)
			if !placed {
				c.base.Documents[i] = doc
				placed = true
			} else {
				c.base.Documents = slices.Delete(c.base.Documents, i, i+1)
			}
		}
		if !placed {
			c.base.Documents = append(c.base.Documents, doc)
		}
		c.base.byID[doc.ID] = doc
	}
}

// read reads name from fsys, naming it file in problems, and adds it to
// the hash.
func (c *checker) read(fsys fs.FS, name, file string) ([]byte, bool) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.add(file, 0, "unreadable", true, "cannot read: %v", err)
		}
		return nil, false
	}
	fmt.Fprintf(c.hash, "%s\x00%d\x00", file, len(data))
	c.hash.Write(data)
	return data, true
}

func (c *checker) loadTopics() {
	data, ok := c.read(c.fsys, TopicsFile, TopicsFile)
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
		Ask      string   `yaml:"ask"`
		AskPA    string   `yaml:"ask_pa"`
	}
	if err := root.Decode(&list); err != nil {
		c.add(TopicsFile, yamlErrLine(err, 0), "bad-yaml", true, "want a list of {id, label, audience, ask, ask_pa}: %s", yamlErrText(err))
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
		case t.AskPA != "" && t.Ask == "":
			c.add(TopicsFile, line, "bad-topic", false, "topic %q has ask_pa but no ask: ask_pa only replaces ask for PAs", t.ID)
		}
		for _, ask := range []string{t.Ask, t.AskPA} {
			if ask != "" && !strings.HasSuffix(strings.TrimSpace(ask), ".") {
				c.add(TopicsFile, line, "bad-topic", false, "topic %q: %q should be a sentence ending with a full stop", t.ID, ask)
			}
		}
		seen[t.ID] = true
		c.base.Topics = append(c.base.Topics, Topic{ID: t.ID, Label: t.Label, Audience: t.Audience,
			Ask: strings.TrimSpace(t.Ask), AskPA: strings.TrimSpace(t.AskPA)})
	}
}

func (c *checker) loadSynonyms() {
	data, ok := c.read(c.fsys, SynonymsFile, SynonymsFile)
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

// loadDocument parses the document name in fsys, naming it file in
// problems, and reports its problems; local marks a pack's document. It
// returns nil when the document has a fatal problem, and the line of its
// "replaces" field.
func (c *checker) loadDocument(fsys fs.FS, name, file string, knownTopics map[string]bool, local bool) (*Document, int) {
	src, ok := c.read(fsys, name, file)
	if !ok {
		return nil, 0
	}
	src = c.placeholders(file, src, local)
	lines := newLineIndex(src)
	if !bytes.HasPrefix(src, []byte("---")) {
		c.add(file, 1, "no-front-matter", true, "the file must start with YAML front matter between --- lines")
		return nil, 0
	}
	if bytes.Count(src, []byte("\n---")) == 0 {
		c.add(file, 1, "no-front-matter", true, "the front matter that starts on line 1 is never closed with a --- line")
		return nil, 0
	}

	pc := parser.NewContext()
	root := md.Parser().Parse(text.NewReader(src), parser.WithContext(pc))
	fmData := frontmatter.Get(pc)
	if fmData == nil {
		c.add(file, 1, "no-front-matter", true, "the file must start with YAML front matter between --- lines")
		return nil, 0
	}
	var node yaml.Node
	if err := fmData.Decode(&node); err != nil {
		c.add(file, yamlErrLine(err, 1), "bad-yaml", true, "front matter: %s", yamlErrText(err))
		return nil, 0
	}
	var fm frontMatter
	if err := node.Decode(&fm); err != nil {
		c.add(file, yamlErrLine(err, 1), "bad-yaml", true, "front matter: %s", yamlErrText(err))
		return nil, 0
	}
	keys := fieldLines(&node) // field -> line in the file
	fatal := false

	// Fields.
	present := func(f string) bool { _, ok := keys[f]; return ok }
	for _, f := range requiredFields {
		if !present(f) {
			fatal := f == "id" || f == "title" || f == "kind" || f == "audience"
			c.add(file, 1, "missing-field", fatal, "front matter has no %q field", f)
		}
	}
	for k, line := range keys {
		switch {
		case k == "replaces" && !local:
			c.add(file, line, "unknown-field", false, "replaces is only for a local pack's documents")
		case k == "replaces":
		case !isKnownField(k):
			c.add(file, line, "unknown-field", false, "unknown front-matter field %q (known: %s)", k, strings.Join(requiredFields, ", "))
		}
	}
	if local && present("replaces") && !idPattern.MatchString(fm.Replaces) {
		c.add(file, keys["replaces"], "bad-id", true, "replaces %q must be a national document's id", fm.Replaces)
		fatal = true
	}
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
		return nil, 0
	}

	doc := &Document{
		ID: fm.ID, Title: strings.TrimSpace(fm.Title), Kind: fm.Kind, Audience: fm.Audience,
		Topics: fm.Topics, Summary: strings.TrimSpace(fm.Summary), Reviewed: reviewed,
		Sources: fm.Sources, Questions: fm.Questions, Path: file,
	}
	if local {
		doc.Replaces = fm.Replaces
	}
	c.sections(doc, root, src, lines, local, name)
	if len(doc.Sections) == 0 {
		c.add(file, lines.end(), "no-sections", true, "the document has no text to answer from")
		return nil, 0
	}
	return doc, keys["replaces"]
}

// placeholders reports the problems of the placeholders in src, a
// document named file, and returns it with each replaced (see
// CheckWith). Lines stay where they were: a placeholder and what replaces
// it are on one line.
func (c *checker) placeholders(file string, src []byte, local bool) []byte {
	text := string(src)
	found, problems := ScanPlaceholders(file, text, 1)
	c.problems = append(c.problems, problems...)
	var area *Area
	if c.pack != nil {
		area = &c.pack.Area
	}
	for _, p := range found {
		switch {
		case !knownPlaceholder(p.Name) || p.HasFallback:
		case !local:
			c.add(file, p.Line, "no-fallback", false, "national content needs a fallback for places without a local pack: {{local.%s | what to say instead}}", p.Name)
		case area.Value(p.Name) == "":
			c.add(file, p.Line, "no-value", false, "%s gives no value for local.%s: add it there, or a fallback after a bar", c.pack.File(AreaFile), p.Name)
		}
	}
	if len(found) == 0 {
		return src
	}
	return []byte(area.Expand(text))
}

// sections splits the document body at its level-2 headings. Text before the
// first one becomes an opening section titled like the document.
func (c *checker) sections(doc *Document, root ast.Node, src []byte, lines lineIndex, local bool, name string) {
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
			c.collectLinks(link{doc: doc, file: doc.Path, local: local, from: name}, n, lines)
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
			Heading: s.heading, Anchor: s.anchor, Text: body, Audience: sectionAudience(doc.Audience, s.heading, body),
			Markdown: strings.TrimSpace(lines.slice(src, s.bodyStart, endLine)), Line: s.line,
		})
	}
}

func (c *checker) collectLinks(in link, n ast.Node, lines lineIndex) {
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		if l, ok := n.(*ast.Link); ok {
			in.dest, in.line = string(l.Destination), lines.line(nearestStart(l))
			c.links = append(c.links, in)
		}
		return ast.WalkContinue, nil
	})
}

// checkLinks reports relative links whose target file or section is missing.
func (c *checker) checkLinks() {
	for _, l := range c.links {
		if c.base.byID[l.doc.ID] != l.doc {
			continue // in a national document a local one replaced
		}
		u, err := url.Parse(l.dest)
		if err != nil {
			c.add(l.file, l.line, "broken-link", false, "link %q cannot be parsed: %v", l.dest, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" {
			continue
		}
		doc, target := l.doc, l.file
		if u.Path != "" {
			var ok bool
			if doc, target, ok = c.linkTarget(l, u.Path); !ok {
				c.add(l.file, l.line, "broken-link", false, "link %q points to %s, which does not exist", l.dest, target)
				continue
			}
		}
		if u.Fragment == "" || doc == nil {
			continue
		}
		found := false
		for _, s := range doc.Sections {
			found = found || s.Anchor == u.Fragment
		}
		if !found {
			if doc.Local != "" && !l.local {
				target = doc.Path + ", which replaces it,"
			}
			c.add(l.file, l.line, "broken-link", false, "link %q: %s has no section #%s", l.dest, target, u.Fragment)
		}
	}
}

// linkTarget finds the document a relative link's path names: a file
// beside the linking one (for a pack's document, in the pack, or else the
// document with that file name's id), with the local document that
// replaced it, if any. ok is false when there is no such file.
func (c *checker) linkTarget(l link, p string) (doc *Document, target string, ok bool) {
	rel := path.Join(path.Dir(l.from), p)
	if l.local {
		if _, err := fs.Stat(c.pack.fsys, rel); err == nil {
			return c.localPath[rel], c.pack.File(rel), true
		}
		id := strings.TrimSuffix(path.Base(p), ".md")
		if d := c.base.byID[id]; d != nil && strings.HasSuffix(p, ".md") {
			return d, d.Path, true
		}
		return nil, c.pack.File(rel), false
	}
	if _, err := fs.Stat(c.fsys, rel); err != nil {
		return nil, rel, false
	}
	return c.byPath[rel], rel, true
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
