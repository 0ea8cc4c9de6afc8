package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tenken/storage"
	"tenken/storage/archive"
	"tenken/storage/blobs"
	"tenken/storage/embedded"
)

// runDB serves the data folder's embedded database on its own, so that
// mongosh, Compass or any driver can reach the data tenken serve uses.
func runDB(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("db", e)
	var c dbConfig
	c.bind(fs, e)
	addr := fs.String("addr", envOr(e, "TENKEN_DB_ADDR", "127.0.0.1:27017"),
		"listen address host:port, or a Unix socket path ending in .sock (env TENKEN_DB_ADDR)")
	allowRemote := fs.Bool("allow-remote", false, "listen on an address other machines can reach (the embedded database has no authentication)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tenken db [--data DIR] [--addr 127.0.0.1:27017 | --addr /path/db.sock]\n\n"+
			"Serves the data folder's embedded database until interrupted, and prints its\n"+
			"connection string. The folder is locked: tenken serve cannot run on it meanwhile.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("db: unexpected argument %q", fs.Arg(0))
	}
	if !strings.Contains(*addr, "/") && !*allowRemote {
		if err := requireLoopback(*addr); err != nil {
			return err
		}
	}
	log := newLogger(e)
	if c.uri != "" {
		fmt.Fprintln(e.stderr, "tenken db: MONGODB_URI is set, but tenken db serves the embedded database of the data folder, not that server")
	}
	sync, err := embedded.ParseSync(c.sync)
	if err != nil {
		return err
	}
	emb, err := embedded.Start(c.dataDir, *addr, embeddedLogger(log), embedded.WithSync(sync))
	if err != nil {
		return ownerHint(err)
	}
	defer emb.Stop()

	// The connection string alone on the first line of stdout, for scripts.
	fmt.Fprintln(e.stdout, emb.URI())
	fmt.Fprintf(e.stderr, "tenken db: serving data folder %s at %s\n  connect: mongosh %q\n  stop: Ctrl-C (SIGINT) or SIGTERM\n",
		c.dataDir, emb.URI(), withDatabase(emb.URI(), c.name))
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "tenken db: stopping")
	return nil
}

// requireLoopback refuses a TCP listen address that other machines can
// reach: the embedded server has no users or passwords.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("db: --addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("db: --addr %s is reachable from other machines and the embedded database has no authentication; "+
		"listen on 127.0.0.1, or pass --allow-remote behind a firewall or tunnel", addr)
}

// withDatabase puts the database name into a connection string's path,
// which is where mongosh takes the database to use.
func withDatabase(uri, name string) string {
	if strings.HasSuffix(uri, "/") {
		return uri + name
	}
	return uri
}

// archiveFile sets fs's usage message to usage followed by the flags,
// parses args (flags may come before or after the file, as in
// "tenken backup FILE --include-keys") and returns the one archive file
// they name.
func archiveFile(fs *flag.FlagSet, usage string, args []string) (string, error) {
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage+"\n\nflags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 {
		fs.Usage()
		return "", fmt.Errorf("%s: give one archive file", strings.TrimPrefix(fs.Name(), "tenken "))
	}
	return rest[0], nil
}

// backupSource is the database a backup reads and how it got there.
type backupSource struct {
	uri       string
	quiescent bool
	describe  string
	stop      func()
}

// findSource picks what to back up: MONGODB_URI when set; otherwise the
// data folder's embedded server, reached at the address its owner wrote
// into the lock file when tenken serve or tenken db runs, or started here,
// holding the folder, when nothing runs.
func findSource(c dbConfig, log *slog.Logger) (backupSource, error) {
	if c.uri != "" {
		return backupSource{uri: c.uri, describe: "MongoDB at " + storage.Redact(c.uri), stop: func() {}}, nil
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "db")); err != nil {
		return backupSource{}, fmt.Errorf("no embedded database in data folder %s (set --data or TENKEN_DATA, or MONGODB_URI): %w", c.dataDir, err)
	}
	emb, err := embedded.Start(c.dataDir, "127.0.0.1:0", embeddedLogger(log))
	if err == nil {
		return backupSource{
			uri:       emb.URI(),
			quiescent: true,
			describe:  fmt.Sprintf("data folder %s (nothing else ran on it during the backup)", c.dataDir),
			stop:      emb.Stop,
		}, nil
	}
	var inUse *embedded.DataDirInUseError
	if !errors.As(err, &inUse) {
		return backupSource{}, err
	}
	if strings.HasSuffix(inUse.Holder.Command, " restore") {
		// Its server holds a half-restored database.
		return backupSource{}, fmt.Errorf("%w; wait until the restore has finished", err)
	}
	if inUse.Holder.URI == "" {
		return backupSource{}, fmt.Errorf("%w; its database address is not known yet, try again in a moment", err)
	}
	return backupSource{
		uri:      inUse.Holder.URI,
		describe: fmt.Sprintf("data folder %s served by %s", c.dataDir, inUse.Holder),
		stop:     func() {},
	}, nil
}

func runBackup(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("backup", e)
	var c dbConfig
	c.bind(fs, e)
	includeKeys := fs.Bool("include-keys", false, "also archive the signing keys (data folder keys/): guard the archive like the keys")
	file, err := archiveFile(fs, "usage: tenken backup [--data DIR] [--database NAME] [--include-keys] FILE\n\n"+
		"Writes every collection of the database and every photo blob of the data folder\n"+
		"to FILE (tar + gzip). Reads MONGODB_URI when set; otherwise the data folder's\n"+
		"embedded database, through the running tenken serve or tenken db if there is one.", args)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(file); err == nil && fi.IsDir() {
		return fmt.Errorf("backup: %s is a folder; give a file name", file)
	}
	log := newLogger(e)
	start := time.Now()

	src, err := findSource(c, log)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer src.stop()
	connectCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := storage.Connect(connectCtx, src.uri, c.name)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close(context.Background())

	dataDir := c.dataDir
	if _, err := os.Stat(dataDir); err != nil {
		fmt.Fprintf(e.stderr, "tenken backup: no data folder %s: archiving the database only, without photos\n", dataDir)
		dataDir = ""
	}
	// Write beside the target and rename at the end: a failed backup
	// never leaves a truncated archive under the name asked for.
	tmp, err := os.CreateTemp(filepath.Dir(file), ".tenken-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	m, err := archive.Backup(ctx, db, tmp, archive.BackupOptions{
		DataDir:     dataDir,
		IncludeKeys: *includeKeys,
		Quiescent:   src.quiescent,
		Source:      src.describe,
		TempDir:     filepath.Dir(file),
	})
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	size, _ := tmp.Seek(0, 2)
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	fmt.Fprintf(e.stdout, "backup %s: database %q from %s\n", file, m.Database, src.describe)
	fmt.Fprintf(e.stdout, "  %d collections, %d documents; %d blobs (%s); archive %s; %s\n",
		len(m.Collections), m.Documents(), m.Blobs.Count, bytesText(m.Blobs.Bytes), bytesText(size), time.Since(start).Round(time.Millisecond))
	if n := m.GridFSPhotos(); n > 0 {
		fmt.Fprintf(e.stdout, "  %d photos in GridFS (collections %s.files and %s.chunks)\n", n, blobs.PhotoBucket, blobs.PhotoBucket)
	}
	if m.Keys != nil {
		fmt.Fprintf(e.stdout, "  signing keys included (%d files): keep this archive as secret as the keys\n", m.Keys.Count)
	} else {
		fmt.Fprintln(e.stdout, "  signing keys not included (--include-keys to include them)")
	}
	if m.Consistency == archive.PointInTime {
		fmt.Fprintln(e.stdout, "  consistency: point-in-time (nothing else wrote during the backup)")
	} else {
		fmt.Fprintln(e.stdout, "  consistency: per document: the service ran, so documents written during the backup may or may not be in it;\n"+
			"  for a point-in-time copy stop tenken serve first, then back up")
	}
	if len(m.Collections) == 0 {
		fmt.Fprintf(e.stderr, "tenken backup: warning: database %q has no collections; check --database\n", m.Database)
	}
	for _, w := range m.Warnings {
		fmt.Fprintln(e.stderr, "tenken backup: warning:", w)
	}
	return nil
}

func runRestore(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("restore", e)
	var c dbConfig
	c.bind(fs, e)
	force := fs.Bool("force", false, "replace a target that holds data: drop the database and replace the data folder's blobs")
	check := fs.Bool("check", false, "only read the archive and check it against its manifest; change nothing")
	file, err := archiveFile(fs, "usage: tenken restore [--data DIR] [--database NAME] [--force] [--check] FILE\n\n"+
		"Restores an archive written by tenken backup into the database (MONGODB_URI, or\n"+
		"the data folder's embedded database, which must not be running) and the data\n"+
		"folder's blobs. Refuses a target that holds data unless --force.", args)
	if err != nil {
		return err
	}
	start := time.Now()
	if *check {
		m, err := archive.VerifyArchive(file)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "archive %s is whole: database %q of %s, %d collections, %d documents, %d blobs (%s)%s\n",
			file, m.Database, m.CreatedAt.Format(time.RFC3339), len(m.Collections), m.Documents(), m.Blobs.Count, bytesText(m.Blobs.Bytes), keysText(m))
		return nil
	}
	log := newLogger(e)

	uri, target := c.uri, "MongoDB at "+storage.Redact(c.uri)
	if uri == "" {
		emb, err := embedded.Start(c.dataDir, "127.0.0.1:0", embeddedLogger(log))
		if err != nil {
			var inUse *embedded.DataDirInUseError
			if errors.As(err, &inUse) {
				return fmt.Errorf("restore needs the data folder to itself, stop the server first: %w", err)
			}
			return fmt.Errorf("restore: %w", err)
		}
		defer emb.Stop()
		uri, target = emb.URI(), "data folder "+c.dataDir
	}
	connectCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := storage.Connect(connectCtx, uri, c.name)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer db.Close(context.Background())

	m, err := archive.Restore(ctx, db, file, archive.RestoreOptions{DataDir: c.dataDir, Force: *force})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s into database %q of %s\n", file, c.name, target)
	fmt.Fprintf(e.stdout, "  archived %s from database %q; %d collections, %d documents; %d blobs (%s)%s; %s\n",
		m.CreatedAt.Format(time.RFC3339), m.Database, len(m.Collections), m.Documents(), m.Blobs.Count, bytesText(m.Blobs.Bytes), keysText(m),
		time.Since(start).Round(time.Millisecond))
	if n := m.GridFSPhotos(); n > 0 {
		fmt.Fprintf(e.stdout, "  %d photos in GridFS (collections %s.files and %s.chunks): serve them with --photos gridfs\n", n, blobs.PhotoBucket, blobs.PhotoBucket)
		if c.uri == "" {
			fmt.Fprintf(e.stderr, "tenken restore: warning: the archive keeps %d photos in GridFS, which only tenken serve --photos gridfs "+
				"serves, and that needs MONGODB_URI; to serve them, restore the archive into MongoDB\n", n)
		}
	}
	return nil
}

func keysText(m *archive.Manifest) string {
	if m.Keys == nil {
		return "; no signing keys"
	}
	return fmt.Sprintf("; %d signing key files", m.Keys.Count)
}

// bytesText is n in B, KB, MB or GB (powers of 1024), for people.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMG"[exp])
}
