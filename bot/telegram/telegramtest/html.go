package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Link is a link in a message: its visible text and its target.
type Link struct {
	Text string
	URL  string
}

// htmlTags are the tags Bot API 5.5 accepts in HTML parse mode.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "a": true, "code": true, "pre": true,
}

// ParseHTML parses text the way the Bot API does in HTML parse mode and
// returns what the person sees and the links in it. It returns an error,
// worded like Telegram's, for an unsupported or unbalanced tag, a bare "<",
// ">" or "&", or an unknown entity.
func ParseHTML(src string) (plain string, links []Link, err error) {
	type open struct {
		name  string
		start int // byte offset in out
		href  string
	}
	var out strings.Builder
	var stack []open
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '<':
			end := strings.IndexByte(src[i:], '>')
			if end < 0 {
				return "", nil, fmt.Errorf("can't parse entities: unclosed start tag at byte offset %d", i)
			}
			tag := src[i+1 : i+end]
			i += end + 1
			if strings.HasPrefix(tag, "/") {
				name := strings.ToLower(strings.TrimSpace(tag[1:]))
				if len(stack) == 0 || stack[len(stack)-1].name != name {
					return "", nil, fmt.Errorf("can't parse entities: unexpected end tag %q", name)
				}
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if name == "a" {
					links = append(links, Link{Text: out.String()[top.start:], URL: top.href})
				}
				continue
			}
			name, attrs, _ := strings.Cut(tag, " ")
			name = strings.ToLower(name)
			if !htmlTags[name] {
				return "", nil, fmt.Errorf("can't parse entities: unsupported start tag %q", name)
			}
			o := open{name: name, start: out.Len()}
			if name == "a" {
				href, err := hrefOf(attrs)
				if err != nil {
					return "", nil, err
				}
				o.href = href
			}
			stack = append(stack, o)
		case '>':
			return "", nil, fmt.Errorf("can't parse entities: character '>' is reserved at byte offset %d", i)
		case '&':
			r, n, err := entity(src[i:])
			if err != nil {
				return "", nil, err
			}
			out.WriteString(r)
			i += n
		default:
			out.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("can't parse entities: can't find end tag corresponding to start tag %q", stack[len(stack)-1].name)
	}
	if !utf8.ValidString(out.String()) {
		return "", nil, fmt.Errorf("text must be encoded in UTF-8")
	}
	return out.String(), links, nil
}

// hrefOf reads href="..." (or '...') from a tag's attributes.
func hrefOf(attrs string) (string, error) {
	attrs = strings.TrimSpace(attrs)
	rest, ok := strings.CutPrefix(attrs, "href=")
	if !ok || rest == "" {
		return "", fmt.Errorf("can't parse entities: a tag without href")
	}
	q := rest[0]
	if q != '"' && q != '\'' {
		return "", fmt.Errorf("can't parse entities: unquoted href")
	}
	end := strings.IndexByte(rest[1:], q)
	if end < 0 || strings.TrimSpace(rest[end+2:]) != "" {
		return "", fmt.Errorf("can't parse entities: bad href attribute")
	}
	raw := rest[1 : end+1]
	if strings.ContainsAny(raw, "<>") {
		return "", fmt.Errorf("can't parse entities: reserved character in href")
	}
	var b strings.Builder
	for i := 0; i < len(raw); {
		if raw[i] == '&' {
			r, n, err := entity(raw[i:])
			if err != nil {
				return "", err
			}
			b.WriteString(r)
			i += n
			continue
		}
		b.WriteByte(raw[i])
		i++
	}
	return b.String(), nil
}

// entity decodes the HTML entity at the start of s, returning it and its
// length in s.
func entity(s string) (string, int, error) {
	end := strings.IndexByte(s, ';')
	if end < 0 || end > 12 {
		return "", 0, fmt.Errorf("can't parse entities: character '&' is reserved")
	}
	name := s[1:end]
	switch name {
	case "lt":
		return "<", end + 1, nil
	case "gt":
		return ">", end + 1, nil
	case "amp":
		return "&", end + 1, nil
	case "quot":
		return `"`, end + 1, nil
	}
	if num, ok := strings.CutPrefix(name, "#"); ok {
		base := 10
		if h, ok := strings.CutPrefix(num, "x"); ok {
			num, base = h, 16
		}
		n, err := strconv.ParseUint(num, base, 32)
		if err == nil && utf8.ValidRune(rune(n)) {
			return string(rune(n)), end + 1, nil
		}
	}
	return "", 0, fmt.Errorf("can't parse entities: unsupported entity %q", "&"+name+";")
}
