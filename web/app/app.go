// Package app holds the tablet app (issue 16): an offline-first PWA of
// plain ES modules, served by tenken at /app/. The package only embeds the
// files; handlers serves them.
package app

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed index.html app.css *.js manifest.webmanifest icon.svg icon-192.png icon-512.png
var files embed.FS

// Asset is one file of the app as served.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	ETag        string // strong, from the content's hash
}

// buildMarker in sw.js is replaced by the hash of the whole shell, so
// that any change to any file changes the service worker's bytes and
// browsers install the new shell.
const buildMarker = "__BUILD__"

var assets = sync.OnceValue(func() map[string]Asset {
	out := map[string]Asset{}
	var names []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	all := sha256.New()
	for _, n := range names {
		b, _ := files.ReadFile(n)
		all.Write([]byte(n))
		all.Write(b)
		out[n] = asset(n, b)
	}
	build := hex.EncodeToString(all.Sum(nil))[:16]
	sw := out["sw.js"]
	out["sw.js"] = asset("sw.js", []byte(strings.ReplaceAll(string(sw.Body), buildMarker, build)))
	return out
})

func asset(name string, b []byte) Asset {
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".webmanifest":
		ct = "application/manifest+json"
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	sum := sha256.Sum256(b)
	return Asset{Name: name, ContentType: ct, Body: b, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// Get returns the asset named name ("index.html", "main.js", …).
func Get(name string) (Asset, bool) {
	a, ok := assets()[name]
	return a, ok
}

// Names lists every asset, sorted: the app shell.
func Names() []string {
	var n []string
	for k := range assets() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
