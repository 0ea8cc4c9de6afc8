package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// maxJSONBody is the default limit on a JSON request body.
const maxJSONBody = 1 << 20

// decodeJSON strictly decodes the request body into v: the content type
// must be JSON, the body must fit the limit, unknown fields, trailing
// data, duplicate names and invalid UTF-8 are refused (checkStrictJSON),
// and a wrong type names its field.
func decodeJSON(c *gin.Context, v any) error {
	return decodeJSONLimit(c, v, maxJSONBody)
}

func decodeJSONLimit(c *gin.Context, v any, limit int64) error {
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		return checklist.Errorf(checklist.EUnsupportedType, "the body must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return checklist.Errorf(checklist.ETooLarge, "the body is larger than %d bytes", limit)
		}
		return checklist.Errorf(checklist.EBadRequest, "the body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	// Only white space may follow the value: not a second value, and not
	// a stray "}" or "]", which dec.More alone lets through.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return checklist.Errorf(checklist.EBadRequest, "the body holds more than one JSON value")
	}
	return checkStrictJSON(body)
}

// jsonProblem turns an encoding/json error into a bad request naming the
// field where it can.
func jsonProblem(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		invalid *json.InvalidUnmarshalError
	)
	bad := func(field, code, msg string) error {
		e := checklist.Errorf(checklist.EBadRequest, "%s", msg)
		if field != "" {
			e.Fields = []checklist.FieldError{{Field: field, Code: code, Message: msg}}
		}
		return e
	}
	switch {
	case errors.Is(err, io.EOF):
		return bad("", "", "the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("", "", "the body is not valid JSON: it ends too early")
	case errors.As(err, &syntax):
		return bad("", "", fmt.Sprintf("the body is not valid JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return bad(field, "type", fmt.Sprintf("%s must be %s, not %s", field, jsonTypeName(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return bad(name, "unknown", fmt.Sprintf("unknown field %q", name))
	case errors.As(err, &invalid):
		return err
	}
	return bad("", "", "the body is not valid JSON")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// jsonEncode writes v as compact JSON without HTML escaping: Japanese
// text and "<" stay readable.
func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
