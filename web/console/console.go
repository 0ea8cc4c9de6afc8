// Package console holds the bureau console's assets: HTML templates and the
// style sheet, embedded in the binary. The HTTP wiring
// lives in handlers (console*.go); this package only exposes the files.
package console

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates are the pages' html/template sources: layout.html defines the
// frame, each other file one page (its "content" block).
func Templates() fs.FS { return templates }

// Static are the files served under /console/static/ (console.css).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
