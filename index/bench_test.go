package index

import (
	"context"
	"testing"

	"github.com/askpa/askpa/content"
	"github.com/askpa/askpa/knowledge"
)

func realBase(b *testing.B) *knowledge.Base {
	b.Helper()
	base, err := knowledge.Load(content.FS)
	if err != nil {
		b.Fatal(err)
	}
	return base
}

// BenchmarkBuild builds the index of the built-in knowledge base in memory,
// which is what happens when content has changed.
func BenchmarkBuild(b *testing.B) {
	base := realBase(b)
	for b.Loop() {
		ix, err := Open(context.Background(), base, Config{})
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// BenchmarkOpenStored reopens an index already on disk for the same
// content: what every start does when content has not changed.
func BenchmarkOpenStored(b *testing.B) {
	base := realBase(b)
	dir := b.TempDir()
	ix, err := Open(context.Background(), base, Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	ix.Close()
	for b.Loop() {
		ix, err := Open(context.Background(), base, Config{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if ix.Rebuilt() {
			b.Fatal("rebuilt an unchanged index")
		}
		ix.Close()
	}
}

// BenchmarkSearch runs a mix of everyday, misspelt and off-topic questions.
func BenchmarkSearch(b *testing.B) {
	ix, err := Open(context.Background(), realBase(b), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	questions := []knowledge.Query{
		{Text: "how much holiday does my PA get if she works 3 days a week", Audience: knowledge.Employer},
		{Text: "do i have to register with hmrc for one carer", Audience: knowledge.Employer},
		{Text: "statutery sick pay from the frist day?", Audience: knowledge.PA},
		{Text: "what is the capital of france", Audience: knowledge.PA},
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := ix.Search(ctx, questions[i%len(questions)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
