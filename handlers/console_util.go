package handlers

import (
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
)

func itoa(n int) string { return strconv.Itoa(n) }

// fmtFloat formats f with prec decimals.
func fmtFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// doneOf is the ?done= of a page after a form succeeded, when it is one
// of the page's forms; the page names it in its notice.
func doneOf(c *gin.Context, forms ...string) string {
	if d := c.Query("done"); slices.Contains(forms, d) {
		return d
	}
	return ""
}
