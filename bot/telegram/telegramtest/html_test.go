package telegramtest

import (
	"reflect"
	"testing"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		in      string
		plain   string
		links   []Link
		wantErr bool
	}{
		{in: "plain", plain: "plain"},
		{in: "<b>bold</b> &amp; &lt;i&gt; &quot;q&quot; &#163;1 &#x41;", plain: `bold & <i> "q" £1 A`},
		{in: `see <a href="https://x.org/?a=1&amp;b=&quot;2&quot;">the guide</a>`, plain: "see the guide",
			links: []Link{{Text: "the guide", URL: `https://x.org/?a=1&b="2"`}}},
		{in: "<b><i>nested</i></b>", plain: "nested"},
		{in: "a < b", wantErr: true},
		{in: "a > b", wantErr: true},
		{in: "fish & chips", wantErr: true},
		{in: "&nbsp;", wantErr: true},
		{in: "<script>x</script>", wantErr: true},
		{in: "<b>open", wantErr: true},
		{in: "<b><i>crossed</b></i>", wantErr: true},
		{in: "close</b>", wantErr: true},
		{in: `<a href="x">unclosed`, wantErr: true},
		{in: `<a href=x>unquoted</a>`, wantErr: true},
		{in: `<a href="a"b">broken quote</a>`, wantErr: true},
	}
	for _, tt := range tests {
		plain, links, err := ParseHTML(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseHTML(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if plain != tt.plain || !reflect.DeepEqual(links, tt.links) {
			t.Errorf("ParseHTML(%q) = %q %+v, want %q %+v", tt.in, plain, links, tt.plain, tt.links)
		}
	}
}

func TestEntitiesUseUTF16Offsets(t *testing.T) {
	got := entities("/start@askpa_bot 😀 hi @someone_else")
	want := []wireEntity{
		{Type: "bot_command", Offset: 0, Length: 16},
		{Type: "mention", Offset: 23, Length: 13},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entities %+v, want %+v", got, want)
	}
}
