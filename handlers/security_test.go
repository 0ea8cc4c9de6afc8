package handlers_test

// One test per relevant risk of the OWASP API Security Top 10 (2023),
// attacking the API from outside the way a hostile or curious client
// would. The narrower tests beside them (TestAuthorizationMatrix,
// TestTokenAttacks, TestBadInputChangesNothing, …) go deeper on one
// feature each; these sweep every route the contract names where they can.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/handlers"
	"tenken/openapi"
)

// specOperation is one operation of openapi.yaml.
type specOperation struct {
	Method, Path string
	openapi.Operation
}

// specOperations lists every operation of the contract.
func specOperations(t *testing.T) []specOperation {
	t.Helper()
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	var ops []specOperation
	for path, methods := range doc.Paths {
		for m, op := range methods {
			ops = append(ops, specOperation{Method: m, Path: path, Operation: op})
		}
	}
	return ops
}

// public reports whether op is documented as needing no token.
func (op specOperation) public() bool { return op.Security != nil && len(op.Security) == 0 }

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// concrete fills every path parameter of op with id.
func (op specOperation) concrete(id string) string {
	return pathParam.ReplaceAllString(op.Path, id)
}

// API1:2023 Broken Object Level Authorization. An inspector bound to
// another facility can neither read nor change this facility's objects,
// whatever id they send, and probing gets the same 404 as a missing id.
func TestAPI1_ObjectLevelAuthorization(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	e.save(e.inspector, id, 1, map[string]any{"signage.entrance": map[string]any{"value": "no", "comment": "暗い"}}).wantStatus(t, http.StatusOK)
	sha := e.upload(e.inspector, id, "signage.entrance", pngBytes(t, 1), "image/png")
	if sha.StatusCode != http.StatusCreated && sha.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", sha.StatusCode, sha.Body)
	}
	var photo struct {
		SHA256 string `json:"sha256"`
	}
	sha.decode(t, &photo)
	before := e.stored(t, id)

	attacker := e.insp2 // inspector of e.other
	attempts := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"ReadInspection", "GET", "/v1/inspections/" + id, nil},
		{"SaveAnswers", "PATCH", "/v1/inspections/" + id, map[string]any{"base_revision": before.Revision, "answers": map[string]any{"flyers.rack": map[string]any{"value": "yes"}}}},
		{"Submit", "POST", "/v1/inspections/" + id + "/submit", map[string]any{"revision": before.Revision}},
		{"Discard", "POST", "/v1/inspections/" + id + "/discard", map[string]any{"revision": before.Revision}},
		{"ReadPhoto", "GET", "/v1/photos/" + photo.SHA256, nil},
		{"ReadFacility", "GET", "/v1/facilities/" + e.own, nil},
		{"CreateInOtherFacility", "PUT", "/v1/inspections/" + uuid.NewString(), e.createBody(e.own)},
		{"ListOtherFacility", "GET", "/v1/inspections?facility_id=" + e.own, nil},
	}
	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			r := e.request(a.method, a.path, a.body, attacker)
			switch {
			case r.StatusCode == http.StatusNotFound || r.StatusCode == http.StatusForbidden:
			case r.StatusCode == http.StatusOK && a.method == "GET" && strings.HasPrefix(a.path, "/v1/inspections?"):
				// A list may answer with nothing rather than refuse.
				if bytes.Contains(r.Body, []byte(id)) {
					t.Fatalf("the list shows another facility's inspection: %s", r.Body)
				}
			default:
				t.Fatalf("%s %s as another facility's inspector: %d %s", a.method, a.path, r.StatusCode, r.Body)
			}
			if bytes.Contains(r.Body, []byte("暗い")) {
				t.Fatalf("the answer leaks another facility's data: %s", r.Body)
			}
		})
	}
	t.Run("PhotoUpload", func(t *testing.T) {
		r := e.upload(attacker, id, "signage.entrance", pngBytes(t, 2), "image/png")
		if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusForbidden {
			t.Fatalf("upload to another facility's inspection: %d %s", r.StatusCode, r.Body)
		}
	})
	t.Run("SyncShowsNothingOfOthers", func(t *testing.T) {
		r := e.request("GET", "/v1/sync", nil, attacker).wantStatus(t, http.StatusOK)
		if bytes.Contains(r.Body, []byte(id)) || bytes.Contains(r.Body, []byte(e.own)) {
			t.Fatalf("sync shows another facility's data: %s", r.Body)
		}
	})
	if after := e.stored(t, id); after.Revision != before.Revision || after.Status != before.Status || len(after.Answers) != len(before.Answers) {
		t.Fatalf("the inspection changed: revision %d→%d, status %s→%s", before.Revision, after.Revision, before.Status, after.Status)
	}
}

// API2:2023 Broken Authentication. Every operation the contract marks as
// needing a token refuses a request without one, with a malformed one,
// with one signed by a stranger's key and with an expired one, in the
// same 401 problem that says nothing about why.
func TestAPI2_Authentication(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.newUser(checklist.RoleAdmin)
	valid := api.login(u.Username, testPassword).AccessToken

	// A token signed by another key, with every claim the server expects.
	strangerAPI := newTestAPI(t)
	foreign := strangerAPI.tokenFor(checklist.RoleAdmin)

	credentials := []struct{ name, header string }{
		{"None", ""},
		{"NotBearer", "Authorization: Basic " + "YWRtaW46YWRtaW4="},
		{"Garbage", bearer("not.a.jwt")},
		{"ForeignKey", bearer(foreign)},
		{"Oversized", bearer(strings.Repeat("a", 8000))},
	}
	for _, op := range specOperations(t) {
		if op.public() {
			continue
		}
		for _, cr := range credentials {
			t.Run(op.Method+" "+op.Path+"/"+cr.name, func(t *testing.T) {
				var headers []string
				if cr.header != "" {
					headers = append(headers, cr.header)
				}
				r := api.request(op.Method, op.concrete("x"), `{}`, headers...)
				p := r.problem(t, http.StatusUnauthorized, "unauthorized")
				if strings.Contains(strings.ToLower(p.Detail), "kid") || strings.Contains(p.Detail, "signature") {
					t.Errorf("the 401 explains the verification failure: %q", p.Detail)
				}
			})
		}
	}
	t.Run("Expired", func(t *testing.T) {
		api.clk.Advance(24 * time.Hour)
		api.request("GET", "/v1/me", nil, bearer(valid)).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("LoginFailuresLookAlike", func(t *testing.T) {
		wrong := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "wrong password!"})
		unknown := api.request("POST", "/v1/auth/login", map[string]string{"username": "nobody-here", "password": "wrong password!"})
		pw, pu := wrong.problem(t, 401, "unauthorized"), unknown.problem(t, 401, "unauthorized")
		if pw.Detail != pu.Detail || pw.Title != pu.Title {
			t.Fatalf("a wrong password (%q) and an unknown user (%q) can be told apart", pw.Detail, pu.Detail)
		}
	})
}

// API3:2023 Broken Object Property Level Authorization. Fields the
// server owns — ids, revisions, timestamps, status, the caller's own role
// — cannot be written by a client (the strict decoder refuses them by
// name), and responses never carry secrets.
func TestAPI3_PropertyLevelAuthorization(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	fac, err := e.db.FindFacility(context.Background(), e.own)
	if err != nil {
		t.Fatal(err)
	}
	facilityPatch := func(extra string, v any) map[string]any {
		return map[string]any{"revision": fac.Revision, "department": "x", extra: v}
	}
	id := e.create(t, e.inspector, e.own)
	refused := []struct {
		name, method, path, auth string
		body                     any
		field                    string
	}{
		{"FacilityID", "PATCH", "/v1/facilities/" + e.own, e.admin, facilityPatch("id", "f-evil"), "id"},
		{"FacilityCreatedAt", "PATCH", "/v1/facilities/" + e.own, e.admin, facilityPatch("created_at", "2000-01-01T00:00:00Z"), "created_at"},
		{"FacilityUpdatedAt", "PATCH", "/v1/facilities/" + e.own, e.admin, facilityPatch("updated_at", "2000-01-01T00:00:00Z"), "updated_at"},
		{"UserID", "POST", "/v1/users", e.admin, map[string]any{"username": "mallory", "role": "reviewer", "password": testPassword, "id": "u-evil"}, "id"},
		{"UserRevision", "POST", "/v1/users", e.admin, map[string]any{"username": "mallory", "role": "reviewer", "password": testPassword, "revision": 99}, "revision"},
		{"UserCreatedAt", "POST", "/v1/users", e.admin, map[string]any{"username": "mallory", "role": "reviewer", "password": testPassword, "created_at": "2000-01-01T00:00:00Z"}, "created_at"},
		{"UserPasswordHash", "POST", "/v1/users", e.admin, map[string]any{"username": "mallory", "role": "reviewer", "password": testPassword, "password_hash": "x"}, "password_hash"},
		{"InspectionStatus", "PUT", "/v1/inspections/" + uuid.NewString(), e.inspector, withField(e.createBody(e.own), "status", "approved"), "status"},
		{"InspectionRevision", "PUT", "/v1/inspections/" + uuid.NewString(), e.inspector, withField(e.createBody(e.own), "revision", 42), "revision"},
		{"InspectionFiscalYear", "PUT", "/v1/inspections/" + uuid.NewString(), e.inspector, withField(e.createBody(e.own), "fiscal_year", 1999), "fiscal_year"},
		{"SaveStatus", "PATCH", "/v1/inspections/" + id, e.inspector, map[string]any{"base_revision": 1, "answers": map[string]any{}, "status": "approved"}, "status"},
		{"AnswerScore", "PATCH", "/v1/inspections/" + id, e.inspector, map[string]any{"base_revision": 1, "answers": map[string]any{"signage.entrance": map[string]any{"value": "no", "failed": false, "points": 100}}}, ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request(tt.method, tt.path, tt.body, tt.auth)
			if r.StatusCode != http.StatusBadRequest && r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s %s with a server-owned field: %d %s", tt.method, tt.path, r.StatusCode, r.Body)
			}
			if tt.field != "" && !bytes.Contains(r.Body, []byte(`"`+tt.field+`"`)) {
				t.Errorf("the refusal does not name %s: %s", tt.field, r.Body)
			}
		})
	}
	t.Run("NothingChanged", func(t *testing.T) {
		after, err := e.db.FindFacility(context.Background(), e.own)
		if err != nil {
			t.Fatal(err)
		}
		if after.Revision != fac.Revision || after.ID != fac.ID || !after.CreatedAt.Equal(fac.CreatedAt) {
			t.Fatalf("the facility changed: %+v", after)
		}
		if in := e.stored(t, id); in.Revision != 1 || len(in.Answers) != 0 {
			t.Fatalf("the inspection changed: revision %d, %d answers", in.Revision, len(in.Answers))
		}
		e.request("GET", "/v1/users?limit=200", nil, e.admin).wantStatus(t, 200)
	})
	t.Run("OwnRole", func(t *testing.T) {
		var me struct {
			ID       string `json:"id"`
			Revision int    `json:"revision"`
		}
		e.request("GET", "/v1/me", nil, e.inspector).wantStatus(t, 200).decode(t, &me)
		r := e.request("PATCH", "/v1/users/"+me.ID, map[string]any{"revision": me.Revision, "role": "admin"}, e.inspector)
		r.problem(t, http.StatusForbidden, "forbidden")
		var after struct {
			Role string `json:"role"`
		}
		e.request("GET", "/v1/me", nil, e.inspector).wantStatus(t, 200).decode(t, &after)
		if after.Role != "inspector" {
			t.Fatalf("the inspector made themselves %s", after.Role)
		}
	})
	t.Run("NoSecretsInResponses", func(t *testing.T) {
		for _, path := range []string{"/v1/me", "/v1/users?limit=200"} {
			r := e.request("GET", path, nil, e.admin).wantStatus(t, 200)
			for _, secret := range []string{"password", "hash", "argon", "refresh"} {
				if bytes.Contains(bytes.ToLower(r.Body), []byte(secret)) {
					t.Errorf("GET %s mentions %q: %s", path, secret, r.Body)
				}
			}
		}
	})
}

func withField(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// API4:2023 Unrestricted Resource Consumption. Bodies, uploads, page
// sizes and login attempts are all bounded, and going over a bound is
// refused before the work is done.
func TestAPI4_ResourceConsumption(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	t.Run("JSONBody", func(t *testing.T) {
		big := `{"code":"BIG","kind":"other","name":{"ja":"` + strings.Repeat("あ", 1<<19) + `","en":"x"}}`
		e.request("POST", "/v1/facilities", big, e.admin).problem(t, http.StatusRequestEntityTooLarge, "payload_too_large")
		big = `{"base_revision":1,"answers":{"x":{"value":"` + strings.Repeat("a", 2<<20) + `"}}}`
		id := e.create(t, e.inspector, e.own)
		e.request("PATCH", "/v1/inspections/"+id, big, e.inspector).problem(t, http.StatusRequestEntityTooLarge, "payload_too_large")
	})
	t.Run("Photo", func(t *testing.T) {
		for _, kind := range photoStoreKinds {
			t.Run(kind, func(t *testing.T) {
				e := newInspectionEnvOn(t, kind)
				id := e.create(t, e.inspector, e.own)
				huge := append(pngBytes(t, 3), make([]byte, testMaxPhotoBytes*2)...)
				r := e.upload(e.inspector, id, "signage.entrance", huge, "image/png")
				r.problem(t, http.StatusRequestEntityTooLarge, "payload_too_large")
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				w, _ := mw.CreateFormFile("file", "big.png")
				_, _ = w.Write(huge)
				_ = mw.Close()
				r = e.upload(e.inspector, id, "signage.entrance", body.Bytes(), mw.FormDataContentType())
				if r.StatusCode != http.StatusRequestEntityTooLarge && r.StatusCode != http.StatusUnsupportedMediaType {
					t.Fatalf("a multipart photo over the limit: %d %s", r.StatusCode, r.Body)
				}
				// Nothing was stored, and the inspection holds no photo.
				if ok, err := e.cfg.Photos.Has(context.Background(), sha256Hex(huge)); ok || err != nil {
					t.Fatalf("the refused photo is stored (%v)", err)
				}
				if n := len(e.stored(t, id).Photos); n != 0 {
					t.Fatalf("the inspection holds %d photos", n)
				}
			})
		}
	})
	t.Run("PageSize", func(t *testing.T) {
		for _, path := range []string{"/v1/facilities", "/v1/users", "/v1/inspections", "/v1/sync", "/v1/audit"} {
			e.request("GET", path+"?limit=200", nil, e.admin).wantStatus(t, http.StatusOK)
			for _, bad := range []string{"201", "100000", "-1", "0", "1e3"} {
				e.request("GET", path+"?limit="+bad, nil, e.admin).problem(t, http.StatusBadRequest, "bad_request")
			}
		}
	})
	t.Run("LoginRate", func(t *testing.T) {
		api := newTestAPIWith(t, func(c *handlers.Config) {
			c.LoginThrottle = handlers.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Hour, ClientBurst: 100, ClientEvery: time.Hour}
		})
		u := api.newUser(checklist.RoleReviewer)
		for i := 0; i < 3; i++ {
			api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "guess number " + fmt.Sprint(i)}).problem(t, 401, "unauthorized")
		}
		r := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword})
		r.problem(t, http.StatusTooManyRequests, "too_many_requests")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
}

// API5:2023 Broken Function Level Authorization. Every operation the
// contract marks "(admin)" refuses inspectors and reviewers; the
// reviewer's decisions refuse inspectors; nothing changes.
func TestAPI5_FunctionLevelAuthorization(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	victim := e.api().newUser(checklist.RoleReviewer)
	for _, op := range specOperations(t) {
		if !strings.HasSuffix(op.Summary, "(admin)") {
			continue
		}
		for _, who := range []struct{ name, auth string }{{"Inspector", e.inspector}, {"Reviewer", e.reviewer}} {
			t.Run(op.Method+" "+op.Path+"/"+who.name, func(t *testing.T) {
				path := op.concrete(victim.ID)
				if strings.Contains(op.Path, "facilities") {
					path = op.concrete(e.own)
				}
				body := map[string]any{"revision": 1, "role": "admin", "username": "eve-" + who.name, "password": testPassword, "disabled": true}
				if op.Method == "GET" {
					body = nil
				}
				e.request(op.Method, path, body, who.auth).problem(t, http.StatusForbidden, "forbidden")
			})
		}
	}
	id := e.create(t, e.inspector, e.own)
	e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
	rev := e.stored(t, id).Revision
	e.act(e.inspector, id, "submit", map[string]any{"revision": rev}).wantStatus(t, http.StatusOK)
	submitted := e.stored(t, id)
	for _, action := range []string{"approve", "return", "reopen"} {
		t.Run("Inspector/"+action, func(t *testing.T) {
			body := map[string]any{"revision": submitted.Revision}
			switch action {
			case "return":
				body["comment"] = "やり直し"
			case "reopen":
				body["reason"] = "because"
			}
			e.act(e.inspector, id, action, body).problem(t, http.StatusForbidden, "forbidden")
		})
	}
	if after := e.stored(t, id); after.Status != submitted.Status || after.Revision != submitted.Revision {
		t.Fatalf("the inspection changed: %s rev %d", after.Status, after.Revision)
	}
	if u, err := e.db.FindUser(context.Background(), victim.ID); err != nil || u.Role != checklist.RoleReviewer || u.Disabled {
		t.Fatalf("the reviewer changed: %+v %v", u, err)
	}
}

// API8:2023 Security Misconfiguration. Every kind of response carries the
// security headers, token responses are not cached, no CORS is granted,
// and an internal error says nothing about the internals.
func TestAPI8_SecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	tk := e.api().login(e.api().newUser(checklist.RoleReviewer).Username, testPassword)
	responses := map[string]response{
		"JSON":        e.request("GET", "/v1/facilities", nil, e.reviewer, "Origin: https://evil.example"),
		"Problem":     e.request("GET", "/v1/me", nil),
		"NotFound":    e.request("GET", "/nowhere", nil),
		"HTML":        e.request("GET", "/docs", nil),
		"YAML":        e.request("GET", "/openapi.yaml", nil),
		"Tokens":      e.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": tk.RefreshToken}),
		"BadJSON":     e.request("POST", "/v1/auth/login", `{"username":`),
		"MethodWrong": e.request("DELETE", "/v1/me", nil, e.reviewer),
	}
	// Every response: no sniffing, a CSP that allows nothing, no
	// cross-origin reads, no framing. A page a browser renders also says
	// no referrer and denies framing the old way.
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "default-src 'none'",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for name, r := range responses {
		t.Run(name, func(t *testing.T) {
			for h, v := range want {
				if got := r.Header.Get(h); !strings.HasPrefix(got, v) {
					t.Errorf("%s = %q, want %q", h, got, v)
				}
			}
			if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") && r.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("framing is not denied: CSP %q, X-Frame-Options %q", r.Header.Get("Content-Security-Policy"), r.Header.Get("X-Frame-Options"))
			}
			if name == "HTML" {
				if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
					t.Errorf("X-Frame-Options = %q on the page, want DENY", got)
				}
				if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
					t.Errorf("Referrer-Policy = %q on the page, want no-referrer", got)
				}
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("CORS granted to %q", got)
			}
			for _, h := range []string{"X-Powered-By", "Server"} {
				if got := r.Header.Get(h); got != "" {
					t.Errorf("%s reveals %q", h, got)
				}
			}
		})
	}
	if cc := responses["Tokens"].Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("token response Cache-Control = %q, want no-store", cc)
	}

	t.Run("InternalErrorsSayNothing", func(t *testing.T) {
		const secret = "mongodb://tenken:hunter2@10.1.2.3:27017 at storage/facilities.go:42"
		var logs bytes.Buffer
		s, err := handlers.NewServer(handlers.Config{
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Keys: e.cfg.Keys, Now: e.cfg.Now,
		}, brokenStore{Store: e.db, err: errors.New(secret)})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		for _, path := range []string{"/v1/facilities", "/v1/facilities/" + e.own} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Authorization", strings.TrimPrefix(e.reviewer, "Authorization: "))
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusInternalServerError {
				t.Fatalf("GET %s with a failing store: %d %s", path, res.StatusCode, body)
			}
			for _, leak := range []string{"hunter2", "10.1.2.3", "mongodb", ".go", "goroutine", "panic"} {
				if bytes.Contains(body, []byte(leak)) {
					t.Errorf("the 500 body reveals %q: %s", leak, body)
				}
			}
			if !strings.Contains(string(body), `"code":"internal"`) || !strings.Contains(string(body), `"request_id"`) {
				t.Errorf("the 500 is not an internal problem with a request id: %s", body)
			}
		}
		if !strings.Contains(logs.String(), "hunter2") {
			t.Errorf("the cause is not in the server log, where operators need it")
		}
	})
}

// brokenStore fails every facility read with err, as a store whose
// driver returned something unexpected.
type brokenStore struct {
	handlers.Store
	err error
}

func (b brokenStore) FindFacility(context.Context, string) (checklist.Facility, error) {
	return checklist.Facility{}, b.err
}

func (b brokenStore) ListFacilities(context.Context, checklist.FacilityQuery) (checklist.FacilityPage, error) {
	return checklist.FacilityPage{}, b.err
}

func (e *inspectionEnv) api() *testAPI { return e.testAPI }

// sha256Hex is the digest a photo store names b by.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
