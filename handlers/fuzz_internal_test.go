package handlers

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

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

// FuzzVerifyAccessToken: verification never panics, and it accepts only
// an EdDSA token whose signature the server's key checks over exactly the
// signed bytes — whatever the fuzzer does to headers, claims or signature.
func FuzzVerifyAccessToken(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	key := SigningKey{ID: KeyID(pub), Private: priv, Public: pub}
	keys, err := NewKeySet(key)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	ti := newTokenIssuer(Config{Keys: keys, Issuer: "tenken", Audience: "tenken-api", AccessTTL: 10 * time.Minute, Now: func() time.Time { return now }})
	valid, err := ti.issue(checklist.User{ID: "u1", Username: "inspector1", Role: checklist.RoleInspector, FacilityIDs: []string{"f1"}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := ti.verify(valid); err != nil {
		f.Fatalf("the seed token does not verify: %v", err)
	}
	f.Add(valid)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding.EncodeToString
	f.Add(enc([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+key.ID+`"}`)) + "." + parts[1] + ".")
	f.Add(enc([]byte(`{"alg":"HS256","typ":"at+jwt","kid":"`+key.ID+`"}`)) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + enc([]byte(`{"sub":"u1","role":"admin","iss":"tenken","aud":["tenken-api"],"exp":9999999999,"iat":1}`)) + "." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA")
	f.Add(valid + ".")
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ti.verify(raw)
		if err != nil {
			return
		}
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts: %q", len(parts), raw)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
			t.Fatalf("accepted a token the key did not sign: %q", raw)
		}
		var header map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if json.Unmarshal(hb, &header) != nil || header["alg"] != jwt.SigningMethodEdDSA.Alg() {
			t.Fatalf("accepted a token whose header is %s", hb)
		}
		if p.UserID == "" || !p.Role.Valid() {
			t.Fatalf("accepted a token with principal %+v", p)
		}
	})
}
