package handlers

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"tenken/openapi"
)

// serveSpec serves the embedded contract.
func serveSpec(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/yaml", openapi.Spec)
}

var docsPage = sync.OnceValues(openapi.DocsHTML)

// serveDocs serves the contract as a page readable without the internet.
func serveDocs(c *gin.Context) {
	page, err := docsPage()
	if err != nil {
		respondError(c, err)
		return
	}
	// The page has no script and only inline styles.
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	documentHeaders(c)
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}
