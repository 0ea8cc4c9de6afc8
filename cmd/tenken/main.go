// Command tenken is the facility inspection service and its admin tools.
//
//	tenken serve [--addr ADDR] [--data DIR] [--demo]
//	tenken user add --username NAME --role ROLE [--facilities ID,...] [--password-stdin]
//	tenken keys rotate
//	tenken checklist import FILE [--checklist ID] [--publish]
//	tenken checklist export --checklist ID [--version N] [FILE]
//	tenken db [--data DIR] [--addr 127.0.0.1:27017]
//	tenken backup [--data DIR] [--database NAME] [--include-keys] FILE
//	tenken restore [--data DIR] [--database NAME] [--force] [--check] FILE
//	tenken demo --facilities N --years Y [--per-year 2]
//	tenken --version
//
// Configuration comes from flags and the environment; nothing else in the
// program reads the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tenken:", err)
		}
		os.Exit(1)
	}
}

// env is the process environment as the commands see it.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand: its one-line help and what it runs.
type command struct {
	help string
	run  func(ctx context.Context, e env, args []string) error
}

// commands lists every subcommand.
var commands = map[string]command{
	"serve":     {"run the API server (embedded database unless MONGODB_URI is set)", runServe},
	"user":      {"manage users: tenken user add --username NAME --role admin", runUser},
	"keys":      {"rotate the access-token signing key: tenken keys rotate", runKeys},
	"checklist": {"import and export checklist files: tenken checklist import FILE [--publish] | export --checklist ID [--version N] [FILE]", runChecklist},

	// The data: the embedded database on its own, backup and restore.
	"db":      {"serve the data folder's embedded database alone, for mongosh, Compass or drivers", runDB},
	"backup":  {"write the database and photo blobs to one archive file", runBackup},
	"restore": {"restore an archive into an empty database and data folder", runRestore},
	"demo":    {"fill a database with generated inspections: tenken demo --facilities 60 --years 5", runDemoData},
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		usage(stdout)
		return nil
	}
	if args[0] == "--version" || args[0] == "version" {
		bi, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(bi))
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	// Asked for, help is an answer, not a failure: exit status 0.
	if err := cmd.run(ctx, e, args[1:]); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// versionLine is what --version prints: the module version and the VCS
// revision the binary was built from, as the Go toolchain stamped them.
func versionLine(bi *debug.BuildInfo) string {
	if bi == nil {
		return "tenken (no build information)"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	rev, at, modified := "unknown", "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	return fmt.Sprintf("tenken %s revision %s%s%s %s", version, rev, at, modified, bi.GoVersion)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tenken COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].help)
	}
	fmt.Fprintln(w, "\nRun 'tenken COMMAND -h' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("tenken "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(e env, key, def string) string {
	if v := strings.TrimSpace(e.getenv(key)); v != "" {
		return v
	}
	return def
}
