package handlers

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
)

// decodeChecklistYAML reads a checklist file from the request body, as
// `tenken checklist import` reads one from disk: a file that is not valid
// YAML or not shaped like a checklist is 400, a checklist that breaks a
// rule is 422, each listing every problem with its path and line. Nothing
// is stored in either case: a file is a finished piece of work.
func decodeChecklistYAML(c *gin.Context) (checklist.Content, error) {
	content, err := checklistfile.Decode(http.MaxBytesReader(c.Writer, c.Request.Body, maxChecklistBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return checklist.Content{}, checklist.Errorf(checklist.ETooLarge, "the body is larger than %d bytes", maxChecklistBody)
	}
	return content, err
}

// respondYAML writes content as a checklist file named filename.
func respondYAML(c *gin.Context, content checklist.Content, filename string) {
	var buf bytes.Buffer
	if err := checklistfile.Encode(&buf, content); err != nil {
		respondError(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", buf.Bytes())
}
