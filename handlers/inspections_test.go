package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"tenken/checklist"
	"tenken/checklist/checklisttest"
	"tenken/handlers"
)

// testChecklistID is the checklist the inspection tests pin.
const testChecklistID = "service-quality"

// noteItems is how many free-text items the test checklist has for
// concurrent writers to spread over.
const noteItems = 20

// testChecklistContent is the shared test checklist (checklisttest) with
// noteItems free-text notes.
func testChecklistContent() checklist.Content { return checklisttest.Content(noteItems) }

// inspectionEnv is an API with a published checklist, two facilities and
// a user of each role.
type inspectionEnv struct {
	*testAPI
	own, other         string // facility ids
	inspector, insp2   string // Authorization headers: inspectors of own and other
	reviewer, admin    string
	inspectorID        string
	maxPhotoBytesLimit int64
}

const testMaxPhotoBytes = 32 << 10

func newInspectionEnv(t *testing.T) *inspectionEnv {
	t.Helper()
	return newInspectionEnvOn(t, "disk")
}

// newInspectionEnvOn is newInspectionEnv keeping photos in the store
// named by photos (see photoStoreKinds).
func newInspectionEnvOn(t *testing.T, photos string) *inspectionEnv {
	t.Helper()
	api := newTestAPIOn(t, photos, func(c *handlers.Config) { c.MaxPhotoBytes = testMaxPhotoBytes })
	cl := checklist.Checklist{ID: testChecklistID, Title: checklist.Text{Ja: "サービス点検"}, Draft: testChecklistContent()}
	v, err := cl.Publish(time.Now(), "admin")
	if err != nil {
		t.Fatalf("publish the test checklist: %v", err)
	}
	if err := api.db.PutChecklistVersion(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	e := &inspectionEnv{testAPI: api, maxPhotoBytesLimit: testMaxPhotoBytes}
	e.own = api.createFacility("OWN-1")
	e.other = api.createFacility("OTHER-1")
	u := api.newUser(checklist.RoleInspector, e.own)
	e.inspectorID = u.ID
	e.inspector = bearer(api.login(u.Username, testPassword).AccessToken)
	e.insp2 = bearer(api.tokenFor(checklist.RoleInspector, e.other))
	e.reviewer = bearer(api.tokenFor(checklist.RoleReviewer))
	e.admin = bearer(api.tokenFor(checklist.RoleAdmin))
	return e
}

func (e *inspectionEnv) createBody(facility string) map[string]any {
	return map[string]any{"facility_id": facility, "checklist_id": testChecklistID, "version": 1, "inspection_date": "2026-05-12"}
}

// create makes a draft in facility as auth and returns its id.
func (e *inspectionEnv) create(t *testing.T, auth, facility string) string {
	t.Helper()
	id := uuid.NewString()
	e.request("PUT", "/v1/inspections/"+id, e.createBody(facility), auth).wantStatus(t, http.StatusCreated)
	return id
}

// inspectionView is the part of an inspection response tests read.
type inspectionView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Revision int64  `json:"revision"`
	Answers  map[string]struct {
		Value    any      `json:"value"`
		Comment  string   `json:"comment"`
		Photos   []string `json:"photos"`
		Failed   bool     `json:"failed"`
		Revision int64    `json:"revision"`
	} `json:"answers"`
	Photos []struct {
		SHA256 string `json:"sha256"`
		Item   string `json:"item"`
	} `json:"photos"`
	History []struct {
		From, To, Reason string
	} `json:"history"`
	Findings []struct {
		Item          string   `json:"item"`
		Photos        []string `json:"photos"`
		ReviewComment string   `json:"review_comment"`
	} `json:"findings"`
	FiscalYear      int    `json:"fiscal_year"`
	FiscalYearLabel string `json:"fiscal_year_label"`
	Totals          struct {
		Failed   int `json:"failed"`
		Answered int `json:"answered"`
	} `json:"totals"`
}

func (e *inspectionEnv) get(t *testing.T, auth, id string) inspectionView {
	t.Helper()
	var v inspectionView
	e.request("GET", "/v1/inspections/"+id, nil, auth).wantStatus(t, http.StatusOK).decode(t, &v)
	return v
}

// save sends a PATCH of answers based on base.
func (e *inspectionEnv) save(auth, id string, base int64, answers map[string]any, headers ...string) response {
	e.t.Helper()
	return e.request("PATCH", "/v1/inspections/"+id, map[string]any{"base_revision": base, "answers": answers}, append([]string{auth}, headers...)...)
}

// act posts a lifecycle action.
func (e *inspectionEnv) act(auth, id, action string, body any) response {
	e.t.Helper()
	return e.request("POST", "/v1/inspections/"+id+"/"+action, body, auth)
}

// stored reads the inspection straight from the database.
func (e *inspectionEnv) stored(t *testing.T, id string) *checklist.Inspection {
	t.Helper()
	in, err := e.db.FindInspection(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// completeAnswers answer every required item without findings.
var completeAnswers = map[string]any{
	"signage.entrance": map[string]any{"value": "yes"},
	"flyers.rack":      map[string]any{"value": "no"},
}

// pngBytes returns a small valid PNG whose pixels depend on seed.
func pngBytes(t testing.TB, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(seed*31 + i)
	}
	img.Set(0, 0, color.RGBA{R: byte(seed), A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *inspectionEnv) upload(auth, id, item string, body []byte, contentType string) response {
	e.t.Helper()
	path := "/v1/inspections/" + id + "/photos"
	if item != "" {
		path += "?item=" + item
	}
	return e.request("POST", path, body, auth, "Content-Type: "+contentType)
}

func TestInspectionLifecycleAPI(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := uuid.NewString()

	// Create, and a retried create: the same inspection.
	r := e.request("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector).wantStatus(t, http.StatusCreated)
	if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/v1/inspections/"+id {
		t.Fatalf("create headers: ETag %q, Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
	}
	r = e.request("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector).wantStatus(t, http.StatusOK)
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retried create is not marked as replayed")
	}
	body := e.createBody(e.own)
	body["inspection_date"] = "2026-05-13"
	p := e.request("PUT", "/v1/inspections/"+id, body, e.inspector).problem(t, http.StatusConflict, checklist.EConflict)
	if cur, ok := p.Current.(map[string]any); !ok || cur["inspection_date"] != "2026-05-12" {
		t.Fatalf("conflicting create: current = %v, want the existing inspection", p.Current)
	}

	v := e.get(t, e.inspector, id)
	if v.Status != "draft" || v.FiscalYear != 2026 || v.FiscalYearLabel != "令和8年度" {
		t.Fatalf("new inspection: %+v", v)
	}
	// Conditional read.
	e.request("GET", "/v1/inspections/"+id, nil, e.inspector, `If-None-Match: "1"`).wantStatus(t, http.StatusNotModified)

	// Submitting with required items missing names them.
	p = e.act(e.inspector, id, "submit", nil).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	if !hasField(p.Errors, "answers[signage.entrance].value") || !hasField(p.Errors, "answers[flyers.rack].value") {
		t.Fatalf("submit errors %+v do not name the missing items", p.Errors)
	}

	e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
	e.act(e.inspector, id, "approve", nil).problem(t, http.StatusForbidden, checklist.EForbidden)
	e.act(e.inspector, id, "submit", map[string]any{"revision": 2}).wantStatus(t, http.StatusOK)
	// A late offline save to the submitted inspection says why.
	p = e.save(e.inspector, id, 3, map[string]any{"notes.n01": map[string]any{"value": "x"}}).problem(t, http.StatusConflict, checklist.ENotEditable)
	if !strings.Contains(p.Detail, "submitted") {
		t.Fatalf("not_editable problem %+v", p)
	}

	// The reviewer returns it with comments overall and on an item.
	e.act(e.reviewer, id, "return", map[string]any{}).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	r = e.act(e.reviewer, id, "return", map[string]any{"comment": "チラシラックの写真を追加してください",
		"item_comments": map[string]string{"flyers.rack": "ラックは2階にあります"}}).wantStatus(t, http.StatusOK)
	var returned struct {
		Status string `json:"status"`
		Review struct {
			Comment      string            `json:"comment"`
			ItemComments map[string]string `json:"item_comments"`
		} `json:"review"`
	}
	r.decode(t, &returned)
	if returned.Status != "returned" || returned.Review.ItemComments["flyers.rack"] == "" {
		t.Fatalf("returned: %s", r.Body)
	}
	// The facility corrects and resubmits; the reviewer approves.
	e.save(e.inspector, id, 4, map[string]any{"flyers.rack": map[string]any{"value": "yes"}}).wantStatus(t, http.StatusOK)
	e.act(e.inspector, id, "resubmit", nil).wantStatus(t, http.StatusOK)
	e.act(e.reviewer, id, "approve", nil).wantStatus(t, http.StatusOK)

	// Approved is locked: every write is 409 and changes nothing.
	before := e.stored(t, id)
	e.save(e.inspector, id, 7, map[string]any{"notes.n01": map[string]any{"value": "x"}}).problem(t, http.StatusConflict, checklist.ENotEditable)
	e.upload(e.inspector, id, "", pngBytes(t, 1), "image/png").problem(t, http.StatusConflict, checklist.ENotEditable)
	for _, action := range []string{"submit", "resubmit", "discard"} {
		e.act(e.inspector, id, action, nil).problem(t, http.StatusConflict, checklist.EConflict)
	}
	e.act(e.reviewer, id, "approve", nil).problem(t, http.StatusConflict, checklist.EConflict)
	e.act(e.reviewer, id, "return", map[string]any{"comment": "x"}).problem(t, http.StatusConflict, checklist.EConflict)
	if after := e.stored(t, id); !reflect.DeepEqual(before, after) {
		t.Fatalf("writes to an approved inspection changed it")
	}

	// Reopen needs a reason, then the inspection is back with the facility.
	e.act(e.reviewer, id, "reopen", nil).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
	e.act(e.inspector, id, "reopen", map[string]any{"reason": "x"}).problem(t, http.StatusForbidden, checklist.EForbidden)
	e.act(e.reviewer, id, "reopen", map[string]any{"reason": "来館者数の記入漏れ"}).wantStatus(t, http.StatusOK)

	v = e.get(t, e.reviewer, id)
	want := []string{"draft>submitted", "submitted>returned", "returned>submitted", "submitted>approved", "approved>returned"}
	var got []string
	for _, h := range v.History {
		got = append(got, h.From+">"+h.To)
	}
	if v.Status != "returned" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("history %v, status %s; want %v", got, v.Status, want)
	}

	// Discard: drafts only, and a discarded inspection leaves the list.
	d := e.create(t, e.inspector, e.own)
	e.act(e.reviewer, d, "discard", nil).problem(t, http.StatusForbidden, checklist.EForbidden)
	e.act(e.inspector, d, "discard", map[string]any{"reason": "二重作成"}).wantStatus(t, http.StatusOK)
	var list struct {
		Items []struct{ ID string } `json:"items"`
	}
	e.request("GET", "/v1/inspections", nil, e.inspector).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != id {
		t.Fatalf("list = %+v, want only the live inspection", list.Items)
	}
	e.request("GET", "/v1/inspections?status=discarded", nil, e.inspector).wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != d {
		t.Fatalf("discarded list = %+v", list.Items)
	}
}

// TestTransitionsAPI checks each action from each status by each role
// through the API: the status it leads to, or the refusal.
func TestTransitionsAPI(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	bodies := map[string]any{
		"return": map[string]any{"comment": "写真を追加してください"},
		"reopen": map[string]any{"reason": "集計の誤り"},
	}
	tests := []struct {
		from, action, role string
		want               int
		to                 string
	}{
		{"draft", "submit", "inspector", 200, "submitted"},
		{"draft", "submit", "reviewer", 403, ""},
		{"draft", "approve", "reviewer", 409, ""},
		{"draft", "discard", "inspector", 200, "discarded"},
		{"submitted", "approve", "reviewer", 200, "approved"},
		{"submitted", "approve", "inspector", 403, ""},
		{"submitted", "return", "reviewer", 200, "returned"},
		{"submitted", "return", "admin", 200, "returned"},
		{"submitted", "submit", "inspector", 409, ""},
		{"submitted", "discard", "inspector", 409, ""},
		{"returned", "resubmit", "inspector", 200, "submitted"},
		{"returned", "approve", "reviewer", 409, ""},
		{"approved", "reopen", "reviewer", 200, "returned"},
		{"approved", "reopen", "inspector", 403, ""},
		{"approved", "return", "reviewer", 409, ""},
		{"discarded", "submit", "inspector", 409, ""},
		{"discarded", "discard", "inspector", 409, ""},
	}
	auths := map[string]string{"inspector": e.inspector, "reviewer": e.reviewer, "admin": e.admin}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.action+"/"+tt.role, func(t *testing.T) {
			id := e.create(t, e.inspector, e.own)
			e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, http.StatusOK)
			switch tt.from {
			case "discarded":
				e.act(e.inspector, id, "discard", nil).wantStatus(t, 200)
			case "submitted", "returned", "approved":
				e.act(e.inspector, id, "submit", nil).wantStatus(t, 200)
				if tt.from == "returned" {
					e.act(e.reviewer, id, "return", bodies["return"]).wantStatus(t, 200)
				}
				if tt.from == "approved" {
					e.act(e.reviewer, id, "approve", nil).wantStatus(t, 200)
				}
			}
			before := e.stored(t, id)
			r := e.act(auths[tt.role], id, tt.action, bodies[tt.action]).wantStatus(t, tt.want)
			if tt.want != 200 {
				if after := e.stored(t, id); !reflect.DeepEqual(before, after) {
					t.Fatalf("a refused %s changed the inspection", tt.action)
				}
				return
			}
			var v inspectionView
			r.decode(t, &v)
			if v.Status != tt.to || v.Revision != before.Revision+1 {
				t.Fatalf("status %s revision %d, want %s and %d", v.Status, v.Revision, tt.to, before.Revision+1)
			}
		})
	}
}

func TestSaveMergesAndConflicts(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)

	// Two devices both on revision 1, different items: both saved.
	e.save(e.inspector, id, 1, map[string]any{"signage.entrance": map[string]any{"value": "yes"}}).wantStatus(t, http.StatusOK)
	e.save(e.inspector, id, 1, map[string]any{"flyers.rack": map[string]any{"value": "yes"}}).wantStatus(t, http.StatusOK)
	// The same item from revision 1 again: refused, naming it, with the current copy.
	p := e.save(e.inspector, id, 1, map[string]any{
		"signage.entrance": map[string]any{"value": "no"},
		"notes.n01":        map[string]any{"value": "this must not be saved either"},
	}).problem(t, http.StatusConflict, checklist.ERevision)
	if !hasField(p.Errors, "answers[signage.entrance]") || len(p.Errors) != 1 {
		t.Fatalf("conflict errors = %+v", p.Errors)
	}
	cur, _ := p.Current.(map[string]any)
	if cur == nil || cur["revision"] != float64(3) {
		t.Fatalf("conflict current = %v, want revision 3", p.Current)
	}
	v := e.get(t, e.inspector, id)
	if v.Revision != 3 || v.Answers["signage.entrance"].Value != "yes" || v.Answers["flyers.rack"].Value != "yes" || len(v.Answers) != 2 {
		t.Fatalf("after the merge: %+v", v)
	}
	// If-Match demands the exact revision.
	e.save(e.inspector, id, 3, map[string]any{"notes.n01": map[string]any{"value": "a"}}, `If-Match: "2"`).
		problem(t, http.StatusPreconditionFailed, checklist.EPrecondition)
	e.save(e.inspector, id, 3, map[string]any{"notes.n01": map[string]any{"value": "a"}}, `If-Match: "3"`).wantStatus(t, http.StatusOK)
}

// TestConcurrentWriters runs many writers against one inspection through
// the API at once and checks that every acknowledged answer is there at
// the end, unless a later acknowledged write to the same item replaced it.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	client := e.srv.Client()
	send := func(id string, base int64, answers map[string]any) (int, inspectionView, handlers.Problem, error) {
		b, _ := json.Marshal(map[string]any{"base_revision": base, "answers": answers})
		req, _ := http.NewRequest("PATCH", e.srv.URL+"/v1/inspections/"+id, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		name, value, _ := strings.Cut(e.inspector, ":")
		req.Header.Set(name, strings.TrimSpace(value))
		res, err := client.Do(req)
		if err != nil {
			return 0, inspectionView{}, handlers.Problem{}, err
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var v inspectionView
		var p handlers.Problem
		if res.StatusCode == 200 {
			err = json.Unmarshal(data, &v)
		} else {
			err = json.Unmarshal(data, &p)
		}
		return res.StatusCode, v, p, err
	}

	t.Run("DifferentItemsAllMerge", func(t *testing.T) {
		id := e.create(t, e.inspector, e.own)
		const writers, rounds = noteItems, 6
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				item := fmt.Sprintf("notes.n%02d", w+1)
				base := int64(1) // each writer keeps its own (stale) base
				for r := range rounds {
					status, v, p, err := send(id, base, map[string]any{item: map[string]any{"value": fmt.Sprintf("w%d-r%d", w, r)}})
					if err != nil || status != 200 {
						t.Errorf("writer %d round %d: status %d %+v %v", w, r, status, p, err)
						return
					}
					base = v.Answers[item].Revision
				}
			})
		}
		wg.Wait()
		v := e.get(t, e.inspector, id)
		if v.Revision != 1+writers*rounds {
			t.Fatalf("revision %d, want %d: a save was lost or doubled", v.Revision, 1+writers*rounds)
		}
		for w := range writers {
			item := fmt.Sprintf("notes.n%02d", w+1)
			if got, want := v.Answers[item].Value, fmt.Sprintf("w%d-r%d", w, rounds-1); got != want {
				t.Errorf("%s = %v, want %s", item, got, want)
			}
		}
	})

	t.Run("SameItemOneWins", func(t *testing.T) {
		id := e.create(t, e.inspector, e.own)
		const writers = 10
		for round := range 3 {
			base := e.get(t, e.inspector, id).Revision
			var mu sync.Mutex
			var winners []string
			var conflicts int
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					value := fmt.Sprintf("round%d-writer%d", round, w)
					status, _, p, err := send(id, base, map[string]any{"notes.n01": map[string]any{"value": value}})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Errorf("writer %d: %v", w, err)
					case status == 200:
						winners = append(winners, value)
					case status == 409 && p.Code == checklist.ERevision && p.Current != nil:
						conflicts++
					default:
						t.Errorf("writer %d: status %d %+v", w, status, p)
					}
				})
			}
			wg.Wait()
			if len(winners) != 1 || conflicts != writers-1 {
				t.Fatalf("round %d: %d saves acknowledged, %d conflicts; want exactly 1 and %d", round, len(winners), conflicts, writers-1)
			}
			if got := e.get(t, e.inspector, id).Answers["notes.n01"].Value; got != winners[0] {
				t.Fatalf("round %d: stored %v, acknowledged %s", round, got, winners[0])
			}
		}
	})

	t.Run("MixedNothingAcknowledgedLost", func(t *testing.T) {
		id := e.create(t, e.inspector, e.own)
		type ack struct {
			rev   int64
			value string
		}
		var mu sync.Mutex
		acks := map[string][]ack{}
		items := []string{"notes.n01", "notes.n02", "notes.n03", "notes.n04", "notes.n05"}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				base := int64(1)
				for r := range 12 {
					a, b := items[(w+r)%len(items)], items[(w*3+r*2)%len(items)]
					va, vb := fmt.Sprintf("%d.%d.a", w, r), fmt.Sprintf("%d.%d.b", w, r)
					answers := map[string]any{a: map[string]any{"value": va}, b: map[string]any{"value": vb}}
					status, v, p, err := send(id, base, answers)
					switch {
					case err != nil:
						t.Errorf("writer %d: %v", w, err)
						return
					case status == 200:
						mu.Lock()
						for item, value := range answers {
							acks[item] = append(acks[item], ack{v.Revision, value.(map[string]any)["value"].(string)})
						}
						mu.Unlock()
						base = v.Revision
					case status == 409:
						// Rebase on the server's copy, as a tablet would.
						cur, _ := p.Current.(map[string]any)
						rev, _ := cur["revision"].(float64)
						base = int64(rev)
					default:
						t.Errorf("writer %d: status %d %+v", w, status, p)
						return
					}
				}
			})
		}
		wg.Wait()
		v := e.get(t, e.inspector, id)
		total := 0
		for _, item := range items {
			list := acks[item]
			total += len(list)
			if len(list) == 0 {
				continue
			}
			last := list[0]
			for _, a := range list[1:] {
				if a.rev == last.rev {
					t.Fatalf("%s: two saves acknowledged at revision %d", item, a.rev)
				}
				if a.rev > last.rev {
					last = a
				}
			}
			if got := v.Answers[item]; got.Value != last.value || got.Revision != last.rev {
				t.Errorf("%s = %v at revision %d; the last acknowledged save wrote %s at revision %d", item, got.Value, got.Revision, last.value, last.rev)
			}
		}
		if total == 0 {
			t.Fatalf("no save was acknowledged")
		}
	})
}

func TestIdempotentRetries(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	ctx := context.Background()
	id := uuid.NewString()
	client := e.srv.Client()
	do := func(method, path string, body any, headers ...string) (int, http.Header, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ":")
			req.Header.Set(name, strings.TrimSpace(value))
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header, nil
	}
	count := func() int {
		page, err := e.db.ListInspections(ctx, checklist.InspectionQuery{IncludeDiscarded: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Inspections)
	}

	// Eight retries of one create at once: one 201, seven 200.
	statuses := make(chan int, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			s, _, err := do("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector)
			if err != nil {
				t.Error(err)
			}
			statuses <- s
		})
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[201] != 1 || got[200] != 7 {
		t.Fatalf("create retries: %v, want one 201 and seven 200", got)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d inspections stored, want 1", n)
	}

	// Eight retries of one save at once, with one Idempotency-Key.
	save := map[string]any{"base_revision": 1, "answers": map[string]any{"notes.n01": map[string]any{"value": "一度だけ"}}}
	replayed := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			s, h, err := do("PATCH", "/v1/inspections/"+id, save, e.inspector, "Idempotency-Key: save-0001")
			if err != nil || s != 200 {
				t.Errorf("save retry: %d %v", s, err)
			}
			replayed <- h.Get("Idempotent-Replayed") == "true"
		})
	}
	wg.Wait()
	close(replayed)
	n := 0
	for r := range replayed {
		if r {
			n++
		}
	}
	in := e.stored(t, id)
	if in.Revision != 2 || n != 7 {
		t.Fatalf("after 8 retries of one save: revision %d, %d replayed; want 2 and 7", in.Revision, n)
	}
	// The same key with another body is refused; so is a save_id that
	// disagrees with the header.
	other := map[string]any{"base_revision": 2, "answers": map[string]any{"notes.n01": map[string]any{"value": "別の値"}}}
	e.request("PATCH", "/v1/inspections/"+id, other, e.inspector, "Idempotency-Key: save-0001").problem(t, 422, checklist.EInvalid)
	// save_id in the body works like the header.
	withID := map[string]any{"base_revision": 2, "save_id": "save-0002", "answers": map[string]any{"notes.n02": map[string]any{"value": "b"}}}
	e.request("PATCH", "/v1/inspections/"+id, withID, e.inspector).wantStatus(t, 200)
	r := e.request("PATCH", "/v1/inspections/"+id, withID, e.inspector).wantStatus(t, 200)
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a retried save with save_id was not replayed")
	}
	// A retried submit with a key is answered, not refused.
	e.request("POST", "/v1/inspections/"+id+"/discard", nil, e.inspector, "Idempotency-Key: discard-1").wantStatus(t, 200)
	e.request("POST", "/v1/inspections/"+id+"/discard", nil, e.inspector, "Idempotency-Key: discard-1").wantStatus(t, 200)

	in = e.stored(t, id)
	if in.Revision != 4 {
		t.Fatalf("revision %d, want 4 (create, two saves, discard)", in.Revision)
	}
	entries, _, err := e.db.ListAudit(ctx, checklist.AuditQuery{EntityID: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Fatalf("%d audit entries, want 4 (one per revision)", len(entries))
	}
}

// TestBadInputChangesNothing sends each kind of bad input and checks the
// answer names the problem and the stored inspection is unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	e.save(e.inspector, id, 1, map[string]any{"flyers.rack": map[string]any{"value": "yes"}}).wantStatus(t, 200)
	approved := e.create(t, e.inspector, e.own)
	e.save(e.inspector, approved, 1, completeAnswers).wantStatus(t, 200)
	e.act(e.inspector, approved, "submit", nil).wantStatus(t, 200)
	e.act(e.reviewer, approved, "approve", nil).wantStatus(t, 200)
	failing := e.create(t, e.inspector, e.own)
	e.save(e.inspector, failing, 1, map[string]any{
		"signage.entrance": map[string]any{"value": "no"}, "flyers.rack": map[string]any{"value": "yes"},
		"flyers.expired_count": map[string]any{"value": 3},
	}).wantStatus(t, 200)

	ans := func(item string, value any) map[string]any {
		return map[string]any{"base_revision": 2, "answers": map[string]any{item: map[string]any{"value": value}}}
	}
	big := append(pngBytes(t, 1), bytes.Repeat([]byte{0}, testMaxPhotoBytes)...)
	tests := []struct {
		name     string
		target   *string
		method   string
		path     string // after /v1/inspections/{id}
		body     any
		headers  []string
		auth     string
		status   int
		code     checklist.Code
		field    string // a field the problem must name, if any
		contains string // text the detail or a field message must hold
	}{
		{name: "WrongAnswerType", method: "PATCH", body: ans("signage.clarity", "good"), status: 422, code: "invalid", field: "answers[signage.clarity].value"},
		{name: "UnknownItemKey", method: "PATCH", body: ans("signage.exit", "yes"), status: 422, code: "invalid", field: "answers[signage.exit]"},
		{name: "OptionNotInList", method: "PATCH", body: ans("flyers.layout", "colour"), status: 422, code: "invalid", field: "answers[flyers.layout].value"},
		{name: "MultiOptionNotInList", method: "PATCH", body: ans("flyers.languages", []string{"ja", "ko"}), status: 422, code: "invalid", field: "answers[flyers.languages].value[1]"},
		{name: "NumberOutOfBounds", method: "PATCH", body: ans("flyers.expired_count", 51), status: 422, code: "invalid", field: "answers[flyers.expired_count].value"},
		{name: "NumberNotInteger", method: "PATCH", body: ans("flyers.expired_count", 2.5), status: 422, code: "invalid", field: "answers[flyers.expired_count].value"},
		{name: "RatingOutOfBounds", method: "PATCH", body: ans("signage.clarity", 0), status: 422, code: "invalid", field: "answers[signage.clarity].value"},
		{name: "AnswerValueObject", method: "PATCH", body: ans("notes.n01", map[string]any{"x": 1}), status: 422, code: "invalid", field: "answers[notes.n01].value"},
		{name: "AnswerUnknownField", method: "PATCH", body: map[string]any{"base_revision": 2, "answers": map[string]any{"notes.n01": map[string]any{"value": "a", "colour": "red"}}}, status: 400, code: "bad_request", field: "answers[notes.n01]"},
		{name: "PhotoNotUploaded", method: "PATCH", body: map[string]any{"base_revision": 2, "answers": map[string]any{"signage.entrance": map[string]any{"value": "no", "photos": []string{strings.Repeat("a", 64)}}}}, status: 422, code: "invalid", field: "answers[signage.entrance].photos[0]"},
		{name: "NoBaseRevision", method: "PATCH", body: map[string]any{"answers": map[string]any{"notes.n01": map[string]any{"value": "a"}}}, status: 422, code: "invalid", field: "base_revision"},
		{name: "UnknownBodyField", method: "PATCH", body: map[string]any{"base_revision": 2, "answers": map[string]any{}, "force": true}, status: 400, code: "bad_request", field: "force"},
		{name: "NotJSON", method: "PATCH", body: "base_revision=2", status: 400, code: "bad_request"},
		{name: "WrongContentType", method: "PATCH", body: `{"base_revision":2}`, headers: []string{"Content-Type: text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "SubmitRequiredMissing", method: "POST", path: "/submit", status: 422, code: "invalid", field: "answers[signage.entrance].value"},
		{name: "SubmitFailedWithoutComment", target: &failing, method: "POST", path: "/submit", status: 422, code: "invalid", field: "answers[signage.entrance].comment"},
		{name: "SubmitFailedWithoutPhoto", target: &failing, method: "POST", path: "/submit", status: 422, code: "invalid", field: "answers[signage.entrance].photos"},
		{name: "SubmitStaleRevision", method: "POST", path: "/submit", body: map[string]any{"revision": 1}, status: 409, code: "revision_conflict"},
		{name: "PhotoWrongType", method: "POST", path: "/photos", body: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), headers: []string{"Content-Type: image/png"}, status: 415, code: "unsupported_media_type"},
		{name: "PhotoHTMLClaimingJPEG", method: "POST", path: "/photos", body: []byte("<html><script>alert(1)</script></html>"), headers: []string{"Content-Type: image/jpeg"}, status: 415, code: "unsupported_media_type"},
		{name: "PhotoTooLarge", method: "POST", path: "/photos", body: big, headers: []string{"Content-Type: image/png"}, status: 413, code: "payload_too_large"},
		{name: "PhotoUnknownItem", method: "POST", path: "/photos?item=signage.exit", body: pngBytes(t, 2), headers: []string{"Content-Type: image/png"}, status: 422, code: "invalid", field: "item"},
		{name: "OtherFacilityRead", method: "GET", auth: "other", status: 404, code: "not_found"},
		{name: "OtherFacilitySave", method: "PATCH", body: ans("notes.n01", "x"), auth: "other", status: 404, code: "not_found"},
		{name: "OtherFacilitySubmit", method: "POST", path: "/submit", auth: "other", status: 404, code: "not_found"},
		{name: "OtherFacilityDiscard", method: "POST", path: "/discard", auth: "other", status: 404, code: "not_found"},
		{name: "OtherFacilityPhoto", method: "POST", path: "/photos", body: pngBytes(t, 3), headers: []string{"Content-Type: image/png"}, auth: "other", status: 404, code: "not_found"},
		{name: "ReviewerSaves", method: "PATCH", body: ans("notes.n01", "x"), auth: "reviewer", status: 403, code: "forbidden"},
		{name: "ApprovedSave", target: &approved, method: "PATCH", body: ans("notes.n01", "x"), status: 409, code: "not_editable", contains: "approved"},
		{name: "ApprovedDiscard", target: &approved, method: "POST", path: "/discard", status: 409, code: "conflict"},
		{name: "ApprovedPhoto", target: &approved, method: "POST", path: "/photos", body: pngBytes(t, 4), headers: []string{"Content-Type: image/png"}, status: 409, code: "not_editable"},
		{name: "ReturnWithoutComment", method: "POST", path: "/return", body: map[string]any{}, auth: "reviewer", status: 409, code: "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := id
			if tt.target != nil {
				target = *tt.target
			}
			auth := map[string]string{"": e.inspector, "other": e.insp2, "reviewer": e.reviewer}[tt.auth]
			before := e.stored(t, target)
			r := e.request(tt.method, "/v1/inspections/"+target+tt.path, tt.body, append([]string{auth}, tt.headers...)...)
			p := r.problem(t, tt.status, tt.code)
			if tt.field != "" && !hasField(p.Errors, tt.field) {
				t.Fatalf("the problem does not name %s: %s", tt.field, r.Body)
			}
			if tt.contains != "" && !strings.Contains(string(r.Body), tt.contains) {
				t.Fatalf("the problem does not say %q: %s", tt.contains, r.Body)
			}
			if tt.auth == "other" && p.Current != nil {
				t.Fatalf("another facility's inspection leaked in current: %s", r.Body)
			}
			if after := e.stored(t, target); !reflect.DeepEqual(before, after) {
				t.Fatalf("the refused request changed the inspection (revision %d → %d)", before.Revision, after.Revision)
			}
		})
	}
	// A create for another facility is refused and stores nothing.
	t.Run("CreateForOtherFacility", func(t *testing.T) {
		nid := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+nid, e.createBody(e.other), e.inspector).problem(t, 403, checklist.EForbidden)
		e.request("GET", "/v1/inspections/"+nid, nil, e.admin).problem(t, 404, checklist.ENotFound)
	})
	t.Run("CreateBadBody", func(t *testing.T) {
		nid := uuid.NewString()
		body := e.createBody(e.own)
		body["version"] = 9
		body["inspection_date"] = "2026-13-01"
		p := e.request("PUT", "/v1/inspections/"+nid, body, e.inspector).problem(t, 422, checklist.EInvalid)
		if !hasField(p.Errors, "inspection_date") {
			t.Fatalf("errors %+v do not name the date", p.Errors)
		}
		body["inspection_date"] = "2026-05-12"
		p = e.request("PUT", "/v1/inspections/"+nid, body, e.inspector).problem(t, 422, checklist.EInvalid)
		if !hasField(p.Errors, "version") {
			t.Fatalf("errors %+v do not name the version", p.Errors)
		}
		e.request("PUT", "/v1/inspections/not-a-uuid", e.createBody(e.own), e.inspector).problem(t, 422, checklist.EInvalid)
		e.request("GET", "/v1/inspections/"+nid, nil, e.admin).problem(t, 404, checklist.ENotFound)
	})
}

// TestPhotos runs against each photo store: the handler answers alike.
func TestPhotos(t *testing.T) {
	t.Parallel()
	for _, kind := range photoStoreKinds {
		t.Run(kind, func(t *testing.T) { testPhotos(t, newInspectionEnvOn(t, kind)) })
	}
}

func testPhotos(t *testing.T, e *inspectionEnv) {
	id := e.create(t, e.inspector, e.own)
	img := pngBytes(t, 7)

	var up struct {
		SHA256      string `json:"sha256"`
		ContentType string `json:"content_type"`
		URL         string `json:"url"`
		Revision    int64  `json:"revision"`
	}
	// The declared type does not matter; the bytes do.
	e.upload(e.inspector, id, "signage.entrance", img, "application/octet-stream").wantStatus(t, http.StatusCreated).decode(t, &up)
	if up.ContentType != "image/png" || up.Revision != 2 || len(up.SHA256) != 64 {
		t.Fatalf("upload = %+v", up)
	}
	// The same bytes again: nothing changes.
	e.upload(e.inspector, id, "signage.entrance", img, "image/png").wantStatus(t, http.StatusOK)
	if rev := e.stored(t, id).Revision; rev != 2 {
		t.Fatalf("re-upload moved the revision to %d", rev)
	}
	// Multipart works too.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "rack.png")
	fw.Write(pngBytes(t, 8))
	mw.Close()
	e.upload(e.inspector, id, "flyers.rack", buf.Bytes(), mw.FormDataContentType()).wantStatus(t, http.StatusCreated)

	// Download: strong ETag, immutable, 304, only for those who may see it.
	r := e.request("GET", up.URL, nil, e.reviewer).wantStatus(t, http.StatusOK)
	if !bytes.Equal(r.Body, img) || r.Header.Get("ETag") != `"`+up.SHA256+`"` ||
		!strings.Contains(r.Header.Get("Cache-Control"), "immutable") || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d bytes, headers %v", len(r.Body), r.Header)
	}
	e.request("GET", up.URL, nil, e.inspector, `If-None-Match: "`+up.SHA256+`"`).wantStatus(t, http.StatusNotModified)
	e.request("GET", up.URL, nil, e.insp2).problem(t, http.StatusNotFound, checklist.ENotFound)
	e.request("GET", "/v1/photos/"+strings.Repeat("0", 64), nil, e.admin).problem(t, http.StatusNotFound, checklist.ENotFound)

	// A failed answer with its photo can be submitted; the finding shows it.
	e.save(e.inspector, id, 3, map[string]any{
		"signage.entrance": map[string]any{"value": "no", "comment": "案内板が色あせている", "photos": []string{up.SHA256}},
		"flyers.rack":      map[string]any{"value": "na"},
	}).wantStatus(t, http.StatusOK)
	e.act(e.inspector, id, "submit", nil).wantStatus(t, http.StatusOK)
	v := e.get(t, e.reviewer, id)
	if len(v.Findings) != 1 || v.Findings[0].Item != "signage.entrance" || len(v.Findings[0].Photos) != 1 || v.Totals.Failed != 1 {
		t.Fatalf("findings = %+v, totals %+v", v.Findings, v.Totals)
	}
}

func TestListInspections(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	for i := range 3 {
		body := e.createBody(e.own)
		body["inspection_date"] = fmt.Sprintf("2025-0%d-10", i+1) // FY2024
		e.request("PUT", "/v1/inspections/"+uuid.NewString(), body, e.inspector).wantStatus(t, 201)
	}
	e.create(t, e.inspector, e.own) // FY2026
	e.create(t, e.insp2, e.other)   // FY2026, other facility

	type list struct {
		Items []struct {
			ID         string `json:"id"`
			FacilityID string `json:"facility_id"`
			FiscalYear int    `json:"fiscal_year"`
		} `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	var l list
	e.request("GET", "/v1/inspections", nil, e.reviewer).wantStatus(t, 200).decode(t, &l)
	if len(l.Items) != 5 {
		t.Fatalf("reviewer sees %d, want 5", len(l.Items))
	}
	e.request("GET", "/v1/inspections", nil, e.inspector).wantStatus(t, 200).decode(t, &l)
	if len(l.Items) != 4 {
		t.Fatalf("inspector sees %d, want their 4", len(l.Items))
	}
	e.request("GET", "/v1/inspections?facility_id="+e.other, nil, e.inspector).wantStatus(t, 200).decode(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("inspector sees %d of another facility", len(l.Items))
	}
	e.request("GET", "/v1/inspections?fiscal_year=2024&facility_id="+e.own, nil, e.reviewer).wantStatus(t, 200).decode(t, &l)
	if len(l.Items) != 3 {
		t.Fatalf("FY2024: %d, want 3", len(l.Items))
	}
	// Paging by cursor visits each once.
	seen := map[string]bool{}
	path := "/v1/inspections?limit=2"
	for range 5 {
		e.request("GET", path, nil, e.reviewer).wantStatus(t, 200).decode(t, &l)
		for _, it := range l.Items {
			if seen[it.ID] {
				t.Fatalf("%s twice", it.ID)
			}
			seen[it.ID] = true
		}
		if l.NextCursor == nil {
			break
		}
		path = "/v1/inspections?limit=2&cursor=" + *l.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("paging saw %d, want 5", len(seen))
	}
	for _, q := range []string{"fiscal_year=x", "status=lost", "limit=0", "cursor=bm9wZQ"} {
		e.request("GET", "/v1/inspections?"+q, nil, e.reviewer).problem(t, 400, checklist.EBadRequest)
	}
}

func TestSync(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	e.db.Now = e.clk.Now // one clock for stamps and cursors
	mine := e.create(t, e.inspector, e.own)
	e.create(t, e.insp2, e.other)

	type syncResp struct {
		Inspections []inspectionView `json:"inspections"`
		Facilities  []struct {
			ID   string `json:"id"`
			Name struct {
				JA string `json:"ja"`
			} `json:"name"`
		} `json:"facilities"`
		Cursor  string `json:"cursor"`
		HasMore bool   `json:"has_more"`
	}
	var s syncResp
	e.request("GET", "/v1/sync", nil, e.inspector).wantStatus(t, 200).decode(t, &s)
	if len(s.Inspections) != 1 || s.Inspections[0].ID != mine || len(s.Facilities) != 1 || s.Facilities[0].ID != e.own || s.Facilities[0].Name.JA == "" {
		t.Fatalf("first sync: %+v", s)
	}
	// Later, with nothing changed: nothing.
	e.clk.Advance(time.Minute)
	e.request("GET", "/v1/sync?since="+s.Cursor, nil, e.inspector).wantStatus(t, 200).decode(t, &s)
	e.clk.Advance(time.Minute)
	e.request("GET", "/v1/sync?since="+s.Cursor, nil, e.inspector).wantStatus(t, 200).decode(t, &s)
	if len(s.Inspections) != 0 {
		t.Fatalf("sync with nothing new: %d inspections", len(s.Inspections))
	}
	// The reviewer returns it: the tablet learns, with the comments.
	e.save(e.inspector, mine, 1, completeAnswers).wantStatus(t, 200)
	e.act(e.inspector, mine, "submit", nil).wantStatus(t, 200)
	e.act(e.reviewer, mine, "return", map[string]any{"comment": "写真を追加してください"}).wantStatus(t, 200)
	e.request("GET", "/v1/sync?since="+s.Cursor, nil, e.inspector).wantStatus(t, 200).decode(t, &s)
	if len(s.Inspections) != 1 || s.Inspections[0].Status != "returned" {
		t.Fatalf("sync after a return: %+v", s.Inspections)
	}
	e.request("GET", "/v1/sync?since=garbage", nil, e.inspector).problem(t, 400, checklist.EBadRequest)
}

func TestAuditAPI(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	id := e.create(t, e.inspector, e.own)
	e.save(e.inspector, id, 1, completeAnswers).wantStatus(t, 200)
	e.act(e.inspector, id, "submit", nil).wantStatus(t, 200)
	e.act(e.reviewer, id, "approve", nil).wantStatus(t, 200)

	var l struct {
		Items []struct {
			Action  string   `json:"action"`
			ActorID string   `json:"actor_id"`
			Items   []string `json:"items"`
			From    string   `json:"from"`
			To      string   `json:"to"`
		} `json:"items"`
	}
	e.request("GET", "/v1/audit?entity=inspection&entity_id="+id, nil, e.admin).wantStatus(t, 200).decode(t, &l)
	var actions []string
	for _, it := range l.Items {
		actions = append(actions, it.Action)
	}
	if strings.Join(actions, ",") != "approve,submit,save,create" {
		t.Fatalf("audit actions = %v", actions)
	}
	if l.Items[2].ActorID != e.inspectorID || len(l.Items[2].Items) != 2 || l.Items[0].To != "approved" {
		t.Fatalf("audit entries = %+v", l.Items)
	}
	e.request("GET", "/v1/audit?actor="+e.inspectorID, nil, e.admin).wantStatus(t, 200).decode(t, &l)
	if len(l.Items) != 3 {
		t.Fatalf("by the inspector: %d entries, want 3", len(l.Items))
	}
	e.request("GET", "/v1/audit", nil, e.reviewer).problem(t, 403, checklist.EForbidden)
	e.request("GET", "/v1/audit", nil, e.inspector).problem(t, 403, checklist.EForbidden)
	e.request("GET", "/v1/audit?since=yesterday", nil, e.admin).problem(t, 400, checklist.EBadRequest)
}
