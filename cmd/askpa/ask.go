package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/askpa/askpa/bot"
	"github.com/askpa/askpa/knowledge"
)

// runAsk answers one question from the command line, or with "-" one
// question per line of stdin, one answer per line out.
func runAsk(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	fl := flag.NewFlagSet("ask", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var ef engineFlags
	ef.register(fl, getenv)
	audienceFlag := fl.String("audience", "employer", "who is asking: employer or pa")
	asJSON := fl.Bool("json", false, "print the answer as JSON (one object per line)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	audience, err := knowledge.ParseAudience(*audienceFlag)
	if err != nil || audience == knowledge.Both {
		return usageError{"--audience must be employer or pa"}
	}
	if fl.NArg() == 0 {
		return usageError{`ask needs a question, or "-" to read questions from standard input`}
	}
	a, err := ef.open(ctx, warnings(stderr))
	if err != nil {
		return err
	}
	defer a.Close()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	answer := func(q string) error {
		ans, err := a.engine.Answer(ctx, q, audience)
		if err != nil {
			return err
		}
		if *asJSON {
			b, err := json.Marshal(ans)
			if err != nil {
				return err
			}
			out.Write(append(b, '\n'))
			return out.Flush()
		}
		printAnswer(out, ans)
		return out.Flush()
	}

	if fl.NArg() == 1 && fl.Arg(0) == "-" {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			q := strings.TrimSpace(sc.Text())
			if q == "" {
				continue
			}
			if err := answer(q); err != nil {
				return err
			}
		}
		return sc.Err()
	}
	return answer(strings.Join(fl.Args(), " "))
}

// printAnswer writes an answer for a person reading a terminal.
func printAnswer(w io.Writer, a bot.Answer) {
	fmt.Fprintln(w, a.Text)
	for _, s := range a.Sources {
		fmt.Fprintf(w, "\nSource: %s (%s)", s.Title, s.ID)
		if s.URL != "" {
			fmt.Fprintf(w, " %s", s.URL)
		}
		fmt.Fprintln(w)
	}
	if len(a.Suggestions) > 0 {
		fmt.Fprintf(w, "\nYou might also ask about:\n")
		for _, s := range a.Suggestions {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	status := "answered"
	if !a.Answered {
		status = "not answered"
	}
	fmt.Fprintf(w, "\n[%s, confidence %.2f", status, a.Confidence)
	if a.Escalate {
		fmt.Fprintf(w, ", hand over to a person: %s", a.Reason)
		if a.Urgent {
			fmt.Fprint(w, ", URGENT")
		}
	}
	fmt.Fprintln(w, "]")
}
