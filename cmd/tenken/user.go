package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"tenken/auth"
	"tenken/checklist"
	"tenken/storage"
)

const userUsage = "usage: tenken user add --username NAME --role admin|reviewer|inspector [--display-name NAME] [--facilities ID_OR_CODE,...] [--password-stdin]"

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(e.stdout, userUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "add" {
		return errors.New(userUsage)
	}
	return runUserAdd(ctx, e, args[1:])
}

// runUserAdd creates a user, typically the first admin. The password is
// read from stdin with --password-stdin, else from TENKEN_PASSWORD, else
// generated and printed once.
func runUserAdd(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("user add", e)
	var db dbConfig
	db.bind(fs, e)
	username := fs.String("username", "", "login name: a-z, 0-9, . _ - (required)")
	role := fs.String("role", "", "admin, reviewer or inspector (required)")
	displayName := fs.String("display-name", "", "name shown to others; default the username")
	facilities := fs.String("facilities", "", "an inspector's facilities: comma-separated ids or codes")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *role == "" || fs.NArg() > 0 {
		return errors.New(userUsage)
	}

	password, generated := "", false
	switch {
	case *passwordStdin:
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("--password-stdin: no password on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
	case e.getenv("TENKEN_PASSWORD") != "":
		password = e.getenv("TENKEN_PASSWORD")
	default:
		password, generated = generatePassword(), true
	}

	// The command's own logs would only repeat what it prints.
	log := slog.New(embeddedLogs{Handler: newLogger(e).Handler(), min: slog.LevelWarn})
	store, closeStore, err := openStore(ctx, db, log)
	if err != nil {
		return err
	}
	defer closeStore()
	ids, err := facilityIDs(ctx, store, *facilities)
	if err != nil {
		return err
	}
	u, err := auth.CreateUser(ctx, store, checklist.User{
		Username: *username, DisplayName: *displayName, Role: checklist.Role(*role), FacilityIDs: ids,
	}, password, checklist.Actor{UserID: "cli", Name: "tenken user add"})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "created %s %s (id %s)\n", u.Role, u.Username, u.ID)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n(shown only this once)\n", password)
	}
	return nil
}

// facilityIDs resolves comma-separated facility ids or codes to ids.
// Unknown entries are passed on as they are, for validation to name them.
func facilityIDs(ctx context.Context, store *storage.DB, list string) ([]string, error) {
	var ids []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		f, err := store.FindFacility(ctx, s)
		if errors.Is(err, checklist.ENotFound) {
			f, err = store.FindFacilityByCode(ctx, s)
		}
		switch checklist.ErrorCode(err) {
		case "":
			ids = append(ids, f.ID)
		case checklist.ENotFound:
			ids = append(ids, s)
		default:
			return nil, err
		}
	}
	return ids, nil
}

// generatePassword returns 144 random bits as 24 URL-safe characters.
func generatePassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// describe spells out a domain error with every field problem, for the
// command line.
func describe(err error) error {
	var e *checklist.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return errors.New(b.String())
}
