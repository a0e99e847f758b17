// Command askpa answers questions from people who employ personal assistants
// with a direct payment, and from the PAs themselves, and hands them to
// support staff when a bot should not be the one to answer.
//
// Usage:
//
//	askpa serve                       run the service (Telegram, Slack, HTTP API)
//	askpa ask [--audience A] [--json] QUESTION | -
//	askpa lint [DIR]                  validate the knowledge base
//	askpa eval [flags] FILE           run an evaluation set
//	askpa index                       build or rebuild the persistent index
//	askpa gaps [--since 28d] [--json] the content editors' gap report
//	askpa healthcheck [-ready]        exit 0 when the local askpa serve answers /healthz
//	askpa safety train | eval SPLIT   train or evaluate the safety classifier
//	askpa match train | eval SPLIT    train or evaluate the section matcher
//
// Configuration comes from flags and the environment variables listed in
// README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitError carries a process exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError reports a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: askpa <command> [flags]

commands:
  serve    run the service: HTTP API, web channel, Telegram and Slack
  ask      answer one question (or one per line from standard input with -)
  lint     validate the knowledge base; exit 1 on any problem
  eval     run an evaluation set and print its metrics
  index    build or rebuild the persistent search index
  gaps     what people asked that askpa could not answer, or answered unhelpfully (--since 28d, --json)
  healthcheck  exit 0 when askpa serve on this machine answers /healthz (-ready: /readyz)
  safety   train the safety classifier, or evaluate it on a corpus split
  match    train the section-matching model, or evaluate it on a corpus split

Run "askpa <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	var ee exitError
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "askpa: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "askpa: %v\n", err)
		os.Exit(1)
	}
}

// env looks up one environment variable; tests pass a map's lookup.
type env func(string) string

// run executes one askpa command. It is main without the process: tests call
// it with their own arguments, streams and environment.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, getenv)
	case "lint":
		return runLint(rest, stdout, stderr, getenv)
	case "ask":
		return runAsk(ctx, rest, stdin, stdout, stderr, getenv)
	case "eval":
		return runEval(ctx, rest, stdout, stderr, getenv)
	case "index":
		return runIndex(ctx, rest, stdout, stderr, getenv)
	case "gaps":
		return runGaps(ctx, rest, stdout, stderr, getenv)
	case "healthcheck":
		return runHealthcheck(ctx, rest, stdout, stderr, getenv)
	case "safety":
		return runSafety(ctx, rest, stdout, stderr)
	case "match":
		return runMatch(ctx, rest, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}
