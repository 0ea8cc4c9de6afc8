package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"tenken/checklist"
)

// fuzzRequest is a request body with the shapes handlers decode: strings,
// numbers, booleans, lists, nested objects, pointers and maps.
type fuzzRequest struct {
	Username string                      `json:"username"`
	Revision int                         `json:"revision"`
	Active   *bool                       `json:"active"`
	IDs      []string                    `json:"facility_ids"`
	Name     facilityNameJSON            `json:"name"`
	Answers  map[string]checklist.Answer `json:"answers"`
}

// FuzzDecodeJSON: whatever the body and content type, the strict decoder
// does not panic, and it either accepts one valid JSON value or refuses
// with a client error (400, 413 or 415) — never anything a handler would
// turn into a 500.
func FuzzDecodeJSON(f *testing.F) {
	gin.SetMode(gin.TestMode)
	for _, s := range []string{
		`{"username":"a","revision":1,"active":true,"facility_ids":["x"],"name":{"ja":"施設","en":"F"}}`,
		`{"answers":{"q1":{"value":"yes","comment":"c","photos":["p"]},"q2":{"value":[1,2]},"q3":{"value":{"a":1}}}}`,
		`{"username":1}`, `{"revision":1e400}`, `{"revision":"1"}`, `{"nope":1}`, `{"name":{"JA":"x"}}`,
		`{} {}`, `{}x`, `{}}`, `{}]`, `[]`, `null`, ``, `{`, `{"username":"\ud800"}`, "\xef\xbb\xbf{}", `{"a":` + strings.Repeat("[", 200),
		`{"username":"a","username":"b"}`, `{"username":"a","Username":"b"}`, `{"answers":{"q1":{},"q1":{}}}`,
		"{\"username\":\"\xff\"}", `{"username":"\ud83d\ude00"}`, `{"username":"\udc00\ud800"}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "application/json; charset=utf-8")
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), "")
	f.Add([]byte(strings.Repeat(" ", 300)+"{}"), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", contentType)
		var v fuzzRequest
		err := decodeJSONLimit(c, &v, 256)
		if err == nil {
			if !json.Valid(bytes.TrimSpace(body)) && !json.Valid(bytes.TrimPrefix(bytes.TrimSpace(body), []byte("\xef\xbb\xbf"))) {
				t.Fatalf("accepted a body that is not one JSON value: %q", body)
			}
			if !utf8.Valid(body) {
				t.Fatalf("accepted a body that is not UTF-8: %q", body)
			}
			if len(body) > 256 {
				t.Fatalf("accepted %d bytes over a 256-byte limit", len(body))
			}
			return
		}
		switch code := checklist.ErrorCode(err); code {
		case checklist.EBadRequest, checklist.ETooLarge, checklist.EUnsupportedType:
		default:
			t.Fatalf("decode error %v has code %q, want a client error", err, code)
		}
	})
}
