// Command tenkenload loads a running tenken on this machine, in one of
// three modes, and checks that nothing acknowledged was lost.
//
//	TENKEN_DEMO_PASSWORD=... tenken serve --demo &
//	tenkenload -mode save   -url http://127.0.0.1:8080 -tablets 20 -duration 60s
//	tenkenload -mode submit -url http://127.0.0.1:8080 -tablets 20 -duration 20s -pid $(pgrep -n tenken)
//	tenkenload -mode mixed  -url http://127.0.0.1:8080 -tablets 20 -reviewers 2 -duration 60s
//
// save (the default): tablets work in pairs on one inspection each (two
// devices, one inspection), each device on its own items, so every save
// must merge. Every tablet saves one to three answers every interval with
// an Idempotency-Key, retrying a failed request with the same key. At the
// end it reads every inspection back and compares each item with the last
// save the server acknowledged for it. It prints latency percentiles of
// the saves, errors, conflicts and lost answers, and exits non-zero if
// any answer was lost, any request failed, or p99 is over -max-p99.
//
// submit: the unit a bureau pays for, a full submission. Each tablet, as
// fast as the server answers, creates an inspection, uploads a photo,
// saves the whole default checklist in one request and submits it
// (-create-answers: the answers that name no photo go with the create,
// the save carries the rest). It prints submissions
// per second, p50/p99 of each step, errors, lost answers (every
// acknowledged answer and submission is read back) and, given the
// server's -pid, its CPU time per submission and its peak memory.
//
// mixed (formerly tenkenmix): tablets log in, fetch the manifest and
// their checklist version, create an inspection and save an answer every
// second, syncing every tenth; reviewers page through inspections and
// facilities. An admin account (-user, password from TENKEN_LOAD_PASSWORD
// or TENKEN_DEMO_PASSWORD) creates the facilities and users the run
// needs. It prints throughput and latency per operation.
//
// Only loopback addresses are meant: it is a load tool for this machine.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tenkenload:", err)
		os.Exit(1)
	}
}

// run takes -mode out of args and hands the rest to the mode's flags.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	mode, rest := "save", make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "mode" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return fmt.Errorf("-mode needs a value: save, submit or mixed")
			}
			i++
			value = args[i]
		}
		mode = value
	}
	switch mode {
	case "save":
		return runSave(ctx, rest, getenv, stdout)
	case "submit":
		return runSubmit(ctx, rest, getenv, stdout)
	case "mixed":
		return runMixed(ctx, rest, getenv, stdout)
	}
	return fmt.Errorf("-mode %q: want save, submit or mixed", mode)
}
