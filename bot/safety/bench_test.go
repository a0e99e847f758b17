package safety_test

import (
	"context"
	"strings"
	"testing"

	"github.com/askpa/askpa/bot/safety"
	"github.com/askpa/askpa/knowledge"
)

// longMessage is about 2,000 characters: a long, rambling message of the
// kind people send when a lot is going on, with the worrying part buried.
var longMessage = strings.Repeat("Sorry this is long, I never know where to start with these things. ", 4) +
	"My mum has had carers for years and we moved to a direct payment in the spring so she could choose her own PA. " +
	"The payroll company sends payslips every month and the council did a review in June which went fine. " +
	"Her PA is lovely most of the time but lately she has been very short with mum, and last week mum had a bruise on her arm she could not explain. " +
	"Mum says she is clumsy, and she is, but she has gone quiet whenever the PA is in the room and she asked me not to go home on Sunday. " +
	"I also wanted to ask about holiday pay because the PA has asked for two weeks in August and I am not sure how much to pay her, " +
	"she works irregular hours, some weeks twenty and some weeks nearly forty, and the payroll people said something about 12.07 percent. " +
	strings.Repeat("I do not want to cause trouble for anyone, I just want mum to be safe and happy at home. ", 6)

// BenchmarkCheckLong is the cost of checking one long message.
func BenchmarkCheckLong(b *testing.B) {
	c := defaultChecker(b)
	ctx := context.Background()
	b.SetBytes(int64(len(longMessage)))
	for b.Loop() {
		c.Check(ctx, longMessage, knowledge.Employer)
	}
}

// BenchmarkCheckShort is the cost of checking a typical short question.
func BenchmarkCheckShort(b *testing.B) {
	c := defaultChecker(b)
	ctx := context.Background()
	for b.Loop() {
		c.Check(ctx, "how much holiday does my PA get if she works three days a week", knowledge.Employer)
	}
}

// BenchmarkCheckConversation checks a long message with the one before it.
func BenchmarkCheckConversation(b *testing.B) {
	c := defaultChecker(b)
	ctx := context.Background()
	msgs := []string{"quick question about my mum's PA", longMessage}
	for b.Loop() {
		c.CheckConversation(ctx, msgs, knowledge.Employer)
	}
}

func defaultChecker(tb testing.TB) *safety.Checker {
	tb.Helper()
	c, err := safety.Default()
	if err != nil {
		tb.Fatalf("safety.Default: %v", err)
	}
	return c
}
