package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/storage"
)

const checklistUsage = `usage:
  tenken checklist import FILE [--checklist ID] [--publish]
      Read a checklist file (YAML) as the draft of checklist ID (a new
      checklist when ID does not exist or is not given); with --publish,
      publish it as the next version.
  tenken checklist export --checklist ID [--version N] [FILE]
      Write the draft, or version N, of checklist ID as a checklist file to
      FILE or standard output. Exporting and importing gives back exactly
      the same content`

// cliUser is who the file commands act as in the checklists' records and
// the audit trail: whoever runs the command has the data folder anyway.
var cliUser = checklist.Actor{UserID: "cli", Name: "tenken checklist import"}

func runChecklist(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return errors.New(checklistUsage)
	}
	if isHelp(args[0]) {
		fmt.Fprintln(e.stdout, checklistUsage)
		return nil
	}
	switch args[0] {
	case "import":
		return runChecklistImport(ctx, e, args[1:])
	case "export":
		return runChecklistExport(ctx, e, args[1:])
	}
	return errors.New(checklistUsage)
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, as in `import FILE --publish`, and returns the
// latter: the standard flag package stops at the first argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func runChecklistImport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("checklist import", e)
	var db dbConfig
	db.bind(fs, e)
	id := fs.String("checklist", "", "the checklist whose draft the file replaces; a new one when it does not exist (default: a new id)")
	publish := fs.Bool("publish", false, "publish the imported draft as the next version")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return errors.New(checklistUsage)
	}
	// Read and check the file before touching the database: an invalid
	// file changes nothing, and its problems name paths and lines.
	data, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	content, err := checklistfile.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], describe(err))
	}

	log := slog.New(embeddedLogs{Handler: newLogger(e).Handler(), min: slog.LevelWarn})
	store, closeStore, err := openStore(ctx, db, log)
	if err != nil {
		return err
	}
	defer closeStore()

	rec, err := importDraft(ctx, store, *id, content)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "checklist %s: draft revision %d imported from %s\n", rec.ID, rec.Revision, files[0])
	if !*publish {
		return nil
	}
	if rec.LatestVersion > 0 {
		latest, err := store.ChecklistVersion(ctx, rec.ID, rec.LatestVersion)
		if err != nil {
			return err
		}
		if latest.Content.Equal(content) {
			fmt.Fprintf(e.stdout, "checklist %s: unchanged since version %d (content hash %s); nothing published\n", rec.ID, latest.Number, latest.ContentHash)
			return nil
		}
	}
	v, err := store.Publish(ctx, rec.ID, rec.Revision, 0, cliUser)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(e.stdout, "checklist %s: published version %d (content hash %s)\n", v.ChecklistID, v.Number, v.ContentHash)
	return nil
}

// importDraft makes content the draft of checklist id: a new checklist
// when id is empty or unknown, else a new revision of its draft.
func importDraft(ctx context.Context, store *storage.DB, id string, content checklist.Content) (checklist.ChecklistRecord, error) {
	if id != "" {
		rec, err := store.FindChecklist(ctx, id)
		switch checklist.ErrorCode(err) {
		case "":
			return store.ReplaceDraft(ctx, id, rec.Revision, content, cliUser)
		case checklist.ENotFound:
		default:
			return checklist.ChecklistRecord{}, err
		}
	}
	return store.CreateChecklist(ctx, id, content, cliUser)
}

func runChecklistExport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("checklist export", e)
	var db dbConfig
	db.bind(fs, e)
	id := fs.String("checklist", "", "the checklist to export (required)")
	version := fs.Int("version", 0, "the version to export (default: the draft)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *id == "" || len(files) > 1 || *version < 0 {
		return errors.New(checklistUsage)
	}

	log := slog.New(embeddedLogs{Handler: newLogger(e).Handler(), min: slog.LevelWarn})
	store, closeStore, err := openStore(ctx, db, log)
	if err != nil {
		return err
	}
	defer closeStore()

	var content checklist.Content
	if *version > 0 {
		v, err := store.ChecklistVersion(ctx, *id, *version)
		if err != nil {
			return err
		}
		content = v.Content
	} else {
		rec, err := store.FindChecklist(ctx, *id)
		if err != nil {
			return err
		}
		content = rec.Draft
	}
	var buf bytes.Buffer
	if err := checklistfile.Encode(&buf, content); err != nil {
		return err
	}
	if len(files) == 0 {
		_, err := io.Copy(e.stdout, &buf)
		return err
	}
	return writeFileAtomic(files[0], buf.Bytes())
}

// writeFileAtomic writes data to name through a temporary file in the same
// folder, so that a failed export never leaves half a file.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// seedDefaultChecklist makes a fresh database usable: when no checklist
// exists, it publishes the bundled default checklist as version 1 of
// checklist storage.DefaultChecklistID and makes it the default. It runs at every start; it is idempotent and safe
// when several instances start at once.
func seedDefaultChecklist(ctx context.Context, store *storage.DB, log *slog.Logger) error {
	published, err := store.EnsureDefaultChecklist(ctx, checklistfile.Default())
	if err != nil {
		return err
	}
	if published {
		log.Info("published the bundled default checklist", slog.String("checklist", storage.DefaultChecklistID), slog.Int("version", 1))
	}
	return nil
}
