package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tenken/checklist"
)

// auditView is an audit entry as the API shows it.
type auditView struct {
	ID         string   `json:"id"`
	ActorID    string   `json:"actor_id"`
	ActorName  string   `json:"actor_name"`
	Role       string   `json:"role"`
	Entity     string   `json:"entity"`
	EntityID   string   `json:"entity_id"`
	FacilityID string   `json:"facility_id"`
	Action     string   `json:"action"`
	Revision   int64    `json:"revision"`
	Items      []string `json:"items"`
	From       string   `json:"from"`
	To         string   `json:"to"`
	Summary    string   `json:"summary"`
}

// auditAdmin is an admin signed in through the API.
type auditAdmin struct {
	user   checklist.User
	tokens tokens
	header string
}

func (a *testAPI) signInAdmin() auditAdmin {
	a.t.Helper()
	u := a.newUser(checklist.RoleAdmin)
	tk := a.login(u.Username, testPassword)
	return auditAdmin{user: u, tokens: tk, header: bearer(tk.AccessToken)}
}

// audit reads the whole audit trail the query selects, oldest first, and
// the raw bodies of its pages.
func (a *testAPI) audit(t *testing.T, admin string, query url.Values) ([]auditView, string) {
	t.Helper()
	var all []auditView
	var raw strings.Builder
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", "200")
	for {
		var page struct {
			Items      []auditView `json:"items"`
			NextCursor *string     `json:"next_cursor"`
		}
		r := a.request("GET", "/v1/audit?"+q.Encode(), nil, admin).wantStatus(t, http.StatusOK)
		raw.Write(r.Body)
		r.decode(t, &page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			break
		}
		q.Set("cursor", *page.NextCursor)
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all, raw.String()
}

func entityQuery(entity, id string) url.Values {
	q := url.Values{"entity": {entity}}
	if id != "" {
		q.Set("entity_id", id)
	}
	return q
}

// actions lists the entries' actions in order.
func actionsOf(entries []auditView) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}

// wantActions fails unless entries are exactly the actions want, each by
// admin, with a unique id.
func wantActions(t *testing.T, entries []auditView, admin checklist.User, want ...string) {
	t.Helper()
	if got := actionsOf(entries); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit actions = %v, want %v; entries %+v", got, want, entries)
	}
	ids := map[string]bool{}
	for _, e := range entries {
		if e.ActorID != admin.ID || e.ActorName != admin.Username || e.Role != string(checklist.RoleAdmin) {
			t.Errorf("entry %s names actor %s/%s/%s, want %s/%s/admin", e.ID, e.ActorID, e.ActorName, e.Role, admin.ID, admin.Username)
		}
		if ids[e.ID] {
			t.Errorf("entry id %s twice", e.ID)
		}
		ids[e.ID] = true
	}
}

func TestAuditUserWrites(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := api.signInAdmin()
	inspector := bearer(api.tokenFor(checklist.RoleInspector))
	fac := api.createFacility("AUD-U")
	before, _ := api.audit(t, admin.header, entityQuery("user", ""))

	// Refused writes leave no entry.
	api.request("POST", "/v1/users", map[string]any{"username": "kato", "role": "reviewer", "password": "short"}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("POST", "/v1/users", map[string]any{"username": "kato", "role": "reviewer", "password": testPassword}, inspector).
		problem(t, http.StatusForbidden, checklist.EForbidden)
	if after, _ := api.audit(t, admin.header, entityQuery("user", "")); len(after) != len(before) {
		t.Fatalf("refused creates added %d entries", len(after)-len(before))
	}

	var u struct {
		ID       string `json:"id"`
		Revision int    `json:"revision"`
	}
	api.request("POST", "/v1/users", map[string]any{"username": "kato", "role": "inspector", "facility_ids": []string{fac},
		"password": testPassword}, admin.header).wantStatus(t, http.StatusCreated).decode(t, &u)
	// A retried create is refused (the username is taken) and adds nothing.
	api.request("POST", "/v1/users", map[string]any{"username": "kato", "role": "inspector", "facility_ids": []string{fac},
		"password": testPassword}, admin.header).problem(t, http.StatusConflict, checklist.EConflict)
	path := "/v1/users/" + u.ID

	api.request("PATCH", path, map[string]any{"revision": 1, "display_name": "加藤"}, admin.header).wantStatus(t, http.StatusOK)
	api.request("PATCH", path, map[string]any{"revision": 2, "role": "reviewer"}, admin.header).wantStatus(t, http.StatusOK)
	// The same request again (a retry after a lost answer) is stale now:
	// refused, and the role change keeps its single entry.
	api.request("PATCH", path, map[string]any{"revision": 2, "role": "reviewer"}, admin.header).
		problem(t, http.StatusConflict, checklist.ERevision)
	// Invalid and self-harming changes are refused and leave no entry.
	api.request("PATCH", path, map[string]any{"revision": 3, "role": "owner"}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("PATCH", "/v1/users/"+admin.user.ID, map[string]any{"revision": admin.user.Revision, "disabled": true}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("PATCH", path, map[string]any{"revision": 3, "disabled": true}, admin.header).wantStatus(t, http.StatusOK)
	api.request("PATCH", path, map[string]any{"revision": 4, "disabled": false}, admin.header).wantStatus(t, http.StatusOK)

	newPassword := "a brand new passphrase 42"
	api.request("POST", path+"/password", map[string]any{"password": "too short"}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("POST", path+"/password", map[string]any{"password": newPassword}, admin.header).wantStatus(t, http.StatusNoContent)

	// Logins are not audited: they would drown the trail.
	kato := api.login("kato", newPassword)
	api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": kato.RefreshToken}).wantStatus(t, http.StatusOK)

	entries, raw := api.audit(t, admin.header, entityQuery("user", u.ID))
	wantActions(t, entries, admin.user, "create", "update", "role_change", "deactivate", "reactivate", "password_change")
	for i, e := range entries {
		if e.Entity != "user" || e.EntityID != u.ID || e.Revision != int64(i+1) || e.ID != "user:"+u.ID+":"+strconv.Itoa(i+1) {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
	if s := entries[2].Summary; !strings.Contains(s, "role: inspector → reviewer") || !strings.Contains(s, "facility_ids: −"+fac) {
		t.Errorf("role change summary = %q", s)
	}
	if s := entries[1].Summary; !strings.Contains(s, `display_name: "kato" → "加藤"`) {
		t.Errorf("update summary = %q", s)
	}

	// No secret in any entry: not the passwords, not a hash, not a token.
	_, all := api.audit(t, admin.header, nil)
	for _, secret := range []string{testPassword, newPassword, "argon2", "password_hash",
		admin.tokens.AccessToken, admin.tokens.RefreshToken, kato.AccessToken, kato.RefreshToken} {
		if strings.Contains(raw, secret) || strings.Contains(all, secret) {
			t.Errorf("the audit trail holds a secret: %q", secret)
		}
	}
	if strings.Contains(strings.ToLower(all), "login") {
		t.Errorf("a login was audited: %s", all)
	}

	// The actor filter finds the admin's account changes.
	byAdmin, _ := api.audit(t, admin.header, url.Values{"actor": {admin.user.ID}, "entity": {"user"}})
	if len(byAdmin) != 6 {
		t.Errorf("actor filter: %d entries, want 6", len(byAdmin))
	}
	api.request("GET", "/v1/audit?entity=users", nil, admin.header).problem(t, http.StatusBadRequest, checklist.EBadRequest)
}

func TestAuditFacilityWrites(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := api.signInAdmin()
	reviewer := bearer(api.tokenFor(checklist.RoleReviewer))
	body := map[string]any{"code": "AUD-1", "name": map[string]string{"ja": "監査会館", "en": "Audit hall"}, "kind": "public_hall"}

	api.request("POST", "/v1/facilities", body, reviewer).problem(t, http.StatusForbidden, checklist.EForbidden)
	var f struct {
		ID string `json:"id"`
	}
	api.request("POST", "/v1/facilities", body, admin.header).wantStatus(t, http.StatusCreated).decode(t, &f)
	api.request("POST", "/v1/facilities", body, admin.header).problem(t, http.StatusConflict, checklist.EConflict)
	path := "/v1/facilities/" + f.ID
	api.request("PATCH", path, map[string]any{"revision": 1, "address": "東京都新宿区"}, admin.header).wantStatus(t, http.StatusOK)
	api.request("PATCH", path, map[string]any{"revision": 1, "address": "東京都港区"}, admin.header).
		problem(t, http.StatusConflict, checklist.ERevision)
	api.request("PATCH", path, map[string]any{"revision": 2, "kind": "castle"}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("PATCH", path, map[string]any{"revision": 2, "active": false}, admin.header).wantStatus(t, http.StatusOK)
	api.request("PATCH", path, map[string]any{"revision": 3, "active": true}, admin.header).wantStatus(t, http.StatusOK)

	entries, _ := api.audit(t, admin.header, entityQuery("facility", f.ID))
	wantActions(t, entries, admin.user, "create", "update", "deactivate", "reactivate")
	for _, e := range entries {
		if e.FacilityID != f.ID || e.EntityID != f.ID {
			t.Errorf("entry %+v does not name the facility", e)
		}
	}
	if s := entries[1].Summary; s != `address: "" → "東京都新宿区"` {
		t.Errorf("update summary = %q", s)
	}
}

func TestAuditChecklistWrites(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := api.signInAdmin()
	reviewer := bearer(api.tokenFor(checklist.RoleReviewer))

	api.request("POST", "/v1/checklists", map[string]any{"id": "aud", "content": smallContent("監査")}, reviewer).
		problem(t, http.StatusForbidden, checklist.EForbidden)
	api.createChecklist(admin.header, "aud", smallContent("監査"))
	// A second create of the id (a retry) is refused and adds nothing.
	api.request("POST", "/v1/checklists", map[string]any{"id": "aud", "content": smallContent("監査")}, admin.header).
		problem(t, http.StatusConflict, checklist.EConflict)
	v1 := api.publish(admin.header, "aud")

	// A draft imported as YAML.
	next := smallContent("監査 第2版")
	next.Sections[0].Items = next.Sections[0].Items[:2]
	api.request("PUT", "/v1/checklists/aud/draft?revision=1", yamlOf(t, next), admin.header, "Content-Type: application/yaml").
		wantStatus(t, http.StatusOK)
	api.request("PUT", "/v1/checklists/aud/draft?revision=1", yamlOf(t, next), admin.header, "Content-Type: application/yaml").
		problem(t, http.StatusConflict, checklist.ERevision)
	// Publishing version 2 twice: the retry is refused, one entry.
	api.request("POST", "/v1/checklists/aud/publish", map[string]int{"number": 2}, admin.header).wantStatus(t, http.StatusCreated)
	api.request("POST", "/v1/checklists/aud/publish", map[string]int{"number": 2}, admin.header).
		problem(t, http.StatusConflict, checklist.EConflict)
	api.request("POST", "/v1/checklists/aud/versions/1/retire", nil, admin.header).wantStatus(t, http.StatusOK)
	api.request("POST", "/v1/checklists/aud/versions/1/retire", nil, admin.header).problem(t, http.StatusConflict, checklist.EConflict)

	entries, _ := api.audit(t, admin.header, entityQuery("checklist", "aud"))
	wantActions(t, entries, admin.user, "create", "publish", "draft_update", "publish", "retire")
	wantIDs := []string{"checklist:aud:1", "checklist:aud:v1:publish", "checklist:aud:2", "checklist:aud:v2:publish", "checklist:aud:v1:retire"}
	for i, e := range entries {
		if e.ID != wantIDs[i] {
			t.Errorf("entry %d id %s, want %s", i, e.ID, wantIDs[i])
		}
	}
	if d := entries[2]; strings.Join(d.Items, ",") != "flyers.rack_rating" || !strings.Contains(d.Summary, "items: 0 added, 1 removed") {
		t.Errorf("draft entry = %+v", d)
	}
	if !strings.Contains(entries[1].Summary, v1.ContentHash) {
		t.Errorf("publish summary %q lacks the content hash", entries[1].Summary)
	}

	// The applicability: a refused change (unknown checklist) adds
	// nothing, an accepted one is audited.
	var cur struct {
		Revision int `json:"revision"`
	}
	api.request("GET", "/v1/checklists/applicability", nil, admin.header).wantStatus(t, http.StatusOK).decode(t, &cur)
	api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": cur.Revision, "default_checklist_id": "nope"}, admin.header).
		problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": cur.Revision, "default_checklist_id": "aud",
		"kinds": map[string]string{"research": "aud"}}, admin.header).wantStatus(t, http.StatusOK)
	app, _ := api.audit(t, admin.header, entityQuery("checklist_applicability", "current"))
	wantActions(t, app, admin.user, "create")
	if s := app[0].Summary; !strings.Contains(s, `default: "" → "aud"`) || !strings.Contains(s, `kinds.research: "" → "aud"`) {
		t.Errorf("applicability summary = %q", s)
	}
}

func TestAuditActionWrites(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, 1, 1, 7)
	admin := e.signInAdmin()
	own := e.facilities[0].ID
	item := simpleItem(t, e.content)
	inspector := bearer(e.tokenFor(checklist.RoleInspector, own))
	source := e.inspect(t, 200, own, checklist.Date{Year: 2026, Month: 4, Day: 20}, item, true)

	body := map[string]any{"title": "案内表示を更新する", "facility_id": own, "item_key": item, "target_fiscal_year": 2026,
		"source_inspection_id": source.ID}
	e.request("POST", "/v1/actions", body, inspector).problem(t, http.StatusForbidden, checklist.EForbidden)
	var a actionView
	e.request("POST", "/v1/actions", body, admin.header).wantStatus(t, http.StatusCreated).decode(t, &a)
	path := "/v1/actions/" + a.ID
	e.request("PATCH", path, map[string]any{"revision": 1, "owner": "庶務課"}, admin.header).wantStatus(t, http.StatusOK)
	e.request("PATCH", path, map[string]any{"revision": 2, "title": "x"}, inspector).problem(t, http.StatusForbidden, checklist.EForbidden)
	e.request("PATCH", path, map[string]any{"revision": 2, "status": "in_progress"}, admin.header).wantStatus(t, http.StatusOK)
	e.request("PATCH", path, map[string]any{"revision": 2, "status": "in_progress"}, admin.header).
		problem(t, http.StatusConflict, checklist.ERevision)
	e.request("POST", path+"/progress", map[string]any{"revision": 3, "kind": "interim", "date": "2026-09-30", "text": "発注済み"}, admin.header).
		wantStatus(t, http.StatusOK)
	e.request("POST", path+"/good-practice", map[string]any{"revision": 4, "good_practice": true, "note": "好事例"}, admin.header).
		wantStatus(t, http.StatusOK)

	entries, _ := e.audit(t, admin.header, entityQuery("action", a.ID))
	wantActions(t, entries, admin.user, "create", "update", "status_change", "progress_report", "good_practice")
	if s := entries[2]; s.From != "planned" || s.To != "in_progress" || s.FacilityID != own {
		t.Errorf("status change entry = %+v", s)
	}

	// A later failing inspection flags the action, as the system. Its
	// approval applies the same inspection again (every write of it
	// repeats its follow-ups): no second entry.
	today := checklist.DateOf(e.clk.Now())
	failed := e.inspect(t, 201, own, today, item, true)
	reviewer := checklist.Actor{UserID: "reviewer", Role: checklist.RoleReviewer}
	if _, err := e.db.UpdateInspection(t.Context(), failed.ID, reviewer, checklist.Idempotency{},
		func(in *checklist.Inspection, _ *checklist.Content, now time.Time) (checklist.InspectionChange, error) {
			return in.Approve(reviewer, now)
		}); err != nil {
		t.Fatal(err)
	}
	// A passing one verifies it.
	passed := e.inspect(t, 202, own, today, item, false)
	entries, _ = e.audit(t, admin.header, entityQuery("action", a.ID))
	if got := actionsOf(entries); strings.Join(got[5:], ",") != "flag,verify" {
		t.Fatalf("after the later inspections: %v", got)
	}
	for i, id := range []string{failed.ID, passed.ID} {
		if v := entries[5+i]; v.ActorID != "system" || !strings.Contains(v.Summary, id) || v.FacilityID != own {
			t.Errorf("system entry = %+v", v)
		}
	}
}

// TestAuditConcurrentWrites races eight admins to change one facility at
// the same revision: exactly one wins, and the trail holds exactly its
// entry.
func TestAuditConcurrentWrites(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := api.signInAdmin()
	id := api.createFacility("RACE-1")
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := api.request("PATCH", "/v1/facilities/"+id, map[string]any{"revision": 1, "department": "部" + strconv.Itoa(i)}, admin.header)
			statuses[i] = r.StatusCode
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d", s)
		}
	}
	entries, _ := api.audit(t, admin.header, entityQuery("facility", id))
	if ok != 1 || len(entries) != 2 || entries[1].ID != "facility:"+id+":2" {
		t.Fatalf("%d writes succeeded; entries %+v", ok, entries)
	}
}
