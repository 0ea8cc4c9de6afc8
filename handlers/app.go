package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
	"tenken/web/app"
)

// appCSP lets the tablet app load only its own files and talk only to
// this server; photos are previewed from blob: URLs made on the device.
const appCSP = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// appFile serves the tablet app's embedded files. Every file is
// revalidated (no-cache + a strong ETag from its content): the service
// worker holds the offline copy, and an update is one 304 per file away.
func appFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" {
		name = "index.html"
	}
	a, ok := app.Get(name)
	if !ok {
		respondError(c, checklist.Errorf(checklist.ENotFound, "no such resource: %s", c.Request.URL.Path))
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", appCSP)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.ETag)
	switch name {
	case "sw.js":
		h.Set("Service-Worker-Allowed", "/app/")
	case "index.html":
		documentHeaders(c)
	}
	if notModified(c, a.ETag) {
		return
	}
	c.Data(http.StatusOK, a.ContentType, a.Body)
}

// slashRedirect sends /app and /console, typed without their slash, to
// the app's and the console's home (the router does not add slashes).
func slashRedirect(c *gin.Context) {
	c.Redirect(http.StatusMovedPermanently, c.Request.URL.Path+"/")
}
