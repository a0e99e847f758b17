package bot_test

import (
	"context"
	"testing"

	"github.com/askpa/askpa/knowledge"
)

// BenchmarkAnswer answers a mix of questions with the real knowledge base:
// safety rules, small talk and search together.
func BenchmarkAnswer(b *testing.B) {
	e := realEngine(b)
	questions := []string{
		"how much holiday does my PA get if she works 3 days a week",
		"my carer keeps taking money from my purse",
		"hello",
		"do i have to register with hmrc for one PA",
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := e.Answer(ctx, questions[i%len(questions)], knowledge.Employer); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
