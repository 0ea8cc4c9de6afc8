package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// respondJSON writes v as JSON with status. Unlike gin's c.JSON it does
// not escape "<", ">" and "&", so texts stay as written.
func respondJSON(c *gin.Context, status int, v any) {
	c.Render(status, jsonRender{v})
}

type jsonRender struct{ v any }

func (r jsonRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.v)
}

func (r jsonRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
}

// wireCurrent turns the domain copy a conflict carries (Error.Current)
// into its wire form, so a 409 shows the resource as a GET would.
func wireCurrent(v any) any {
	switch v := v.(type) {
	case checklist.User:
		return newUserJSON(v)
	case checklist.Facility:
		return newFacilityJSON(v)
	case checklist.ChecklistRecord:
		return newDraftJSON(v)
	case checklist.Applicability:
		return newApplicabilityJSON(v)
	}
	return v
}

// badQuery is a bad request naming a query parameter.
func badQuery(param, code, msg string) error {
	return &checklist.Error{Code: checklist.EBadRequest, Message: msg,
		Fields: []checklist.FieldError{{Field: param, Code: code, Message: msg}}}
}
