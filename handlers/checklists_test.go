package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/handlers"
)

// smallContent returns a small valid checklist whose title is title.
func smallContent(title string) checklist.Content {
	return checklist.Content{
		Title: checklist.Text{Ja: title, En: "Test checklist"},
		Sections: []checklist.Section{{
			Key: "flyers", Title: checklist.Text{Ja: "チラシ・ポスター", En: "Flyers and posters"},
			Items: []checklist.Item{
				{Key: "flyers.sorted", Text: checklist.Text{Ja: "チラシが分野別に分類して配架されている"}, Type: checklist.TypeYesNo,
					Required: true, Points: 2, FailRule: &checklist.FailRule{Answer: "no"}},
				{Key: "flyers.outdated_removed", Text: checklist.Text{Ja: "配布期間を過ぎたチラシが撤去されている"}, Type: checklist.TypeYesNo,
					AllowNA: true, Points: 1, FailRule: &checklist.FailRule{Answer: "no"}, FailedNeedsPhoto: true},
				{Key: "flyers.rack_rating", Text: checklist.Text{Ja: "ラックの見やすさ"}, Type: checklist.TypeRating,
					Scale: []checklist.Text{{Ja: "悪い"}, {Ja: "普通"}, {Ja: "良い"}}, Points: 2, FailRule: &checklist.FailRule{AtOrBelow: 1}},
			},
		}},
	}
}

// Wire shapes the tests read.
type checklistBody struct {
	ID            string         `json:"id"`
	Title         checklist.Text `json:"title"`
	Revision      int            `json:"revision"`
	LatestVersion int            `json:"latest_version"`
	AppliesTo     struct {
		Default bool     `json:"default"`
		Kinds   []string `json:"kinds"`
	} `json:"applies_to"`
	CreatedBy string `json:"created_by"`
}

type draftBody struct {
	ChecklistID string                 `json:"checklist_id"`
	Revision    int                    `json:"revision"`
	Content     checklist.Content      `json:"content"`
	Problems    []checklist.FieldError `json:"problems"`
	UpdatedBy   string                 `json:"updated_by"`
}

type versionSummary struct {
	ChecklistID string `json:"checklist_id"`
	Number      int    `json:"number"`
	ContentHash string `json:"content_hash"`
	PublishedBy string `json:"published_by"`
	Retired     bool   `json:"retired"`
	RetiredAt   string `json:"retired_at"`
	URL         string `json:"url"`
}

type versionDownload struct {
	ChecklistID string            `json:"checklist_id"`
	Number      int               `json:"number"`
	ContentHash string            `json:"content_hash"`
	Content     checklist.Content `json:"content"`
}

type manifestBody struct {
	Facilities map[string]*manifestEntryBody `json:"facilities"`
	Default    *manifestEntryBody            `json:"default"`
	Kinds      map[string]*manifestEntryBody `json:"kinds"`
}

type manifestEntryBody struct {
	ChecklistID string `json:"checklist_id"`
	Version     int    `json:"version"`
	ContentHash string `json:"content_hash"`
	URL         string `json:"url"`
}

// createChecklist creates a checklist with content through the API as
// admin (a bearer header) and returns it.
func (a *testAPI) createChecklist(admin, id string, content checklist.Content) checklistBody {
	a.t.Helper()
	var c checklistBody
	a.request("POST", "/v1/checklists", map[string]any{"id": id, "content": content}, admin).
		wantStatus(a.t, http.StatusCreated).decode(a.t, &c)
	return c
}

// publish publishes checklist id through the API and returns the version.
func (a *testAPI) publish(admin, id string) versionSummary {
	a.t.Helper()
	var v versionSummary
	a.request("POST", "/v1/checklists/"+id+"/publish", nil, admin).wantStatus(a.t, http.StatusCreated).decode(a.t, &v)
	return v
}

// replaceDraft replaces the draft of id at revision and returns it.
func (a *testAPI) replaceDraft(admin, id string, revision int, content checklist.Content) draftBody {
	a.t.Helper()
	var d draftBody
	a.request("PUT", "/v1/checklists/"+id+"/draft", map[string]any{"revision": revision, "content": content}, admin).
		wantStatus(a.t, http.StatusOK).decode(a.t, &d)
	return d
}

// checklistState is everything the API shows about one checklist, to
// check that a refused request changed nothing.
func (a *testAPI) checklistState(admin, id string) string {
	a.t.Helper()
	var b strings.Builder
	for _, path := range []string{"/v1/checklists/" + id, "/v1/checklists/" + id + "/draft", "/v1/checklists/" + id + "/versions", "/v1/checklists/applicability"} {
		r := a.request("GET", path, nil, admin, "Accept-Encoding: identity")
		fmt.Fprintf(&b, "%s %d %s\n", path, r.StatusCode, r.Body)
	}
	return b.String()
}

// unchanged fails the test if the checklist's state differs from before.
func (a *testAPI) unchanged(t *testing.T, admin, id, before string) {
	t.Helper()
	if after := a.checklistState(admin, id); after != before {
		t.Fatalf("a refused request changed the checklist:\nbefore: %s\nafter:  %s", before, after)
	}
}

func TestChecklistAuthoring(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	reviewer := bearer(api.tokenFor(checklist.RoleReviewer))

	var created checklistBody
	t.Run("CreateOK", func(t *testing.T) {
		r := api.request("POST", "/v1/checklists", map[string]any{"id": "unified", "content": smallContent("統一チェックリスト")}, admin).
			wantStatus(t, http.StatusCreated)
		r.decode(t, &created)
		if created.ID != "unified" || created.Revision != 1 || created.LatestVersion != 0 || created.Title.Ja != "統一チェックリスト" ||
			r.Header.Get("Location") != "/v1/checklists/unified" || created.CreatedBy == "" {
			t.Fatalf("created %+v (%s)", created, r.Body)
		}
	})
	t.Run("CreateOKGeneratedID", func(t *testing.T) {
		var c checklistBody
		api.request("POST", "/v1/checklists", map[string]any{"content": smallContent("別")}, admin).
			wantStatus(t, http.StatusCreated).decode(t, &c)
		if c.ID == "" || c.ID == "unified" {
			t.Fatalf("id %q", c.ID)
		}
	})
	t.Run("CreateOKUnfinishedDraft", func(t *testing.T) {
		var c checklistBody
		api.request("POST", "/v1/checklists", map[string]any{"id": "wip", "content": map[string]any{"title": map[string]string{"ja": "作成中"}, "sections": []any{}}}, admin).
			wantStatus(t, http.StatusCreated).decode(t, &c)
		var d draftBody
		api.request("GET", "/v1/checklists/wip/draft", nil, admin).wantStatus(t, http.StatusOK).decode(t, &d)
		if len(d.Problems) == 0 || d.Problems[0].Field != "sections" {
			t.Fatalf("problems %+v, want the missing sections", d.Problems)
		}
	})
	t.Run("GetOK", func(t *testing.T) {
		var c checklistBody
		api.request("GET", "/v1/checklists/unified", nil, reviewer).wantStatus(t, http.StatusOK).decode(t, &c)
		if c.ID != "unified" || c.Revision != 1 {
			t.Fatalf("got %+v", c)
		}
		var list struct {
			Items      []checklistBody `json:"items"`
			NextCursor *string         `json:"next_cursor"`
		}
		api.request("GET", "/v1/checklists", nil, reviewer).wantStatus(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 3 || list.NextCursor != nil || !slices.ContainsFunc(list.Items, func(c checklistBody) bool { return c.ID == "unified" }) {
			t.Fatalf("list %+v", list)
		}
	})
	t.Run("GetDraftOK", func(t *testing.T) {
		r := api.request("GET", "/v1/checklists/unified/draft", nil, reviewer).wantStatus(t, http.StatusOK)
		var d draftBody
		r.decode(t, &d)
		if d.Revision != 1 || !d.Content.Equal(smallContent("統一チェックリスト")) || len(d.Problems) != 0 || r.Header.Get("ETag") != `"1"` {
			t.Fatalf("draft %+v, ETag %s", d, r.Header.Get("ETag"))
		}
		api.request("GET", "/v1/checklists/unified/draft", nil, reviewer, `If-None-Match: "1"`).wantStatus(t, http.StatusNotModified)
	})
	t.Run("ReplaceDraftOKRevisionField", func(t *testing.T) {
		d := api.replaceDraft(admin, "unified", 1, smallContent("二版"))
		if d.Revision != 2 || d.Content.Title.Ja != "二版" || len(d.Problems) != 0 {
			t.Fatalf("replaced %+v", d)
		}
	})
	t.Run("ReplaceDraftOKIfMatch", func(t *testing.T) {
		r := api.request("PUT", "/v1/checklists/unified/draft", map[string]any{"content": smallContent("三版")}, admin, `If-Match: "2"`).
			wantStatus(t, http.StatusOK)
		var d draftBody
		r.decode(t, &d)
		if d.Revision != 3 || r.Header.Get("ETag") != `"3"` {
			t.Fatalf("replaced %+v", d)
		}
	})
	t.Run("ValidateOK", func(t *testing.T) {
		var v struct {
			Valid       bool   `json:"valid"`
			Revision    int    `json:"revision"`
			ContentHash string `json:"content_hash"`
		}
		api.request("POST", "/v1/checklists/unified/draft/validate", nil, admin).wantStatus(t, http.StatusOK).decode(t, &v)
		if !v.Valid || v.Revision != 3 || v.ContentHash != checklist.ContentHash(smallContent("三版")) {
			t.Fatalf("validate %+v", v)
		}
	})
	t.Run("PublishOK", func(t *testing.T) {
		r := api.request("POST", "/v1/checklists/unified/publish", map[string]int{"revision": 3, "number": 1}, admin).
			wantStatus(t, http.StatusCreated)
		var v versionSummary
		r.decode(t, &v)
		if v.Number != 1 || v.ContentHash != checklist.ContentHash(smallContent("三版")) || v.Retired || v.URL != "/v1/checklists/unified/versions/1" ||
			r.Header.Get("Location") != v.URL {
			t.Fatalf("published %+v", v)
		}
		var c checklistBody
		api.request("GET", "/v1/checklists/unified", nil, admin).decode(t, &c)
		if c.LatestVersion != 1 || c.Revision != 3 {
			t.Fatalf("after publish %+v", c)
		}
	})
	t.Run("ListVersionsOK", func(t *testing.T) {
		api.replaceDraft(admin, "unified", 3, smallContent("四版"))
		api.publish(admin, "unified")
		var list struct {
			Items []versionSummary `json:"items"`
		}
		api.request("GET", "/v1/checklists/unified/versions", nil, reviewer).wantStatus(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Number != 2 || list.Items[1].Number != 1 {
			t.Fatalf("versions %+v", list.Items)
		}
	})
	t.Run("DiffOK", func(t *testing.T) {
		c := smallContent("五版")
		c.Sections[0].Items = c.Sections[0].Items[1:]                     // flyers.sorted removed
		c.Sections[0].Items[0].Text.Ja = "期限切れのチラシは撤去されている"               // flyers.outdated_removed changed
		c.Sections[0].Items = append(c.Sections[0].Items, checklist.Item{ // flyers.by_period added
			Key: "flyers.by_period", Text: checklist.Text{Ja: "配布期間別に整理されている"}, Type: checklist.TypeYesNo,
			Points: 1, FailRule: &checklist.FailRule{Answer: "no"}})
		api.replaceDraft(admin, "unified", 4, c)
		api.publish(admin, "unified")
		var d struct {
			ChecklistID string   `json:"checklist_id"`
			From, To    int      `json:"-"`
			Properties  []string `json:"properties"`
			Items       struct {
				Added   []string           `json:"added"`
				Removed []string           `json:"removed"`
				Changed []checklist.Change `json:"changed"`
			} `json:"items"`
		}
		api.request("GET", "/v1/checklists/unified/versions/2/diff/3", nil, reviewer).wantStatus(t, http.StatusOK).decode(t, &d)
		if !slices.Equal(d.Items.Added, []string{"flyers.by_period"}) || !slices.Equal(d.Items.Removed, []string{"flyers.sorted"}) ||
			len(d.Items.Changed) != 1 || d.Items.Changed[0].Key != "flyers.outdated_removed" || !slices.Equal(d.Items.Changed[0].Properties, []string{"text"}) ||
			!slices.Equal(d.Properties, []string{"title"}) {
			t.Fatalf("diff %+v", d)
		}
	})
	t.Run("RetireOK", func(t *testing.T) {
		var v versionSummary
		api.request("POST", "/v1/checklists/unified/versions/3/retire", nil, admin).wantStatus(t, http.StatusOK).decode(t, &v)
		if !v.Retired || v.RetiredAt == "" || v.Number != 3 {
			t.Fatalf("retired %+v", v)
		}
		// A retired version stays readable, with the same bytes.
		api.request("GET", "/v1/checklists/unified/versions/3", nil, reviewer).wantStatus(t, http.StatusOK)
	})
}

func TestChecklistAuthoringErrors(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	api.createChecklist(admin, "unified", smallContent("一版"))
	api.publish(admin, "unified")
	api.replaceDraft(admin, "unified", 1, smallContent("二版"))
	api.createChecklist(admin, "same", smallContent("同じ"))
	api.publish(admin, "same")
	before := api.checklistState(admin, "unified")
	sameBefore := api.checklistState(admin, "same")
	var listBefore []byte = api.request("GET", "/v1/checklists", nil, admin).Body

	invalid := smallContent("不正")
	invalid.Sections[0].Items[0].FailRule = &checklist.FailRule{AtOrBelow: 2}           // wrong part for yes_no
	invalid.Sections[0].Items[1].Key = "flyers.sorted"                                  // duplicate key
	invalid.Sections[0].Items[2].Scale = invalid.Sections[0].Items[2].Scale[:1]         // scale too short
	invalid.Sections[0].Items[2].ShowIf = &checklist.ShowIf{Item: "later", Equals: "1"} // unknown target
	invalidPaths := []string{
		"sections[0].items[0].fail_rule.at_or_below",
		"sections[0].items[1].key",
		"sections[0].items[2].scale",
		"sections[0].items[2].show_if.item",
	}
	wantPaths := func(t *testing.T, p []checklist.FieldError, want []string) {
		t.Helper()
		for _, path := range want {
			if !slices.ContainsFunc(p, func(f checklist.FieldError) bool { return f.Field == path }) {
				t.Errorf("no problem at %s in %+v", path, p)
			}
		}
	}

	for _, tc := range []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		code    checklist.Code
		fields  []string
	}{
		{"CreateErrBadJSON", "POST", "/v1/checklists", `{"id": "x", "content": {`, nil, 400, checklist.EBadRequest, nil},
		{"CreateErrUnknownField", "POST", "/v1/checklists", map[string]any{"id": "x", "content": map[string]any{"title": map[string]string{"ja": "x"}, "sections": []any{}, "colour": "red"}}, nil, 400, checklist.EBadRequest, []string{"colour"}},
		{"CreateErrWrongType", "POST", "/v1/checklists", map[string]any{"id": "x", "content": map[string]any{"title": "x"}}, nil, 400, checklist.EBadRequest, nil},
		{"CreateErrNoContent", "POST", "/v1/checklists", map[string]any{"id": "x"}, nil, 422, checklist.EInvalid, []string{"content"}},
		{"CreateErrBadID", "POST", "/v1/checklists", map[string]any{"id": "Not A Key", "content": smallContent("x")}, nil, 422, checklist.EInvalid, []string{"id"}},
		{"CreateErrReservedID", "POST", "/v1/checklists", map[string]any{"id": "manifest", "content": smallContent("x")}, nil, 422, checklist.EInvalid, []string{"id"}},
		{"CreateErrIDTaken", "POST", "/v1/checklists", map[string]any{"id": "unified", "content": smallContent("x")}, nil, 409, checklist.EConflict, nil},
		{"CreateErrMediaType", "POST", "/v1/checklists", "id: x", []string{"Content-Type: text/plain"}, 415, checklist.EUnsupportedType, nil},
		{"CreateErrYAMLSyntax", "POST", "/v1/checklists?id=x", "title: {ja: [", []string{"Content-Type: application/yaml"}, 400, checklist.EBadRequest, nil},
		{"CreateErrYAMLShape", "POST", "/v1/checklists?id=x", "title: {ja: x}\nsections: []\nsectoins: []\n", []string{"Content-Type: application/yaml"}, 400, checklist.EBadRequest, []string{"sectoins"}},
		{"CreateErrYAMLInvalid", "POST", "/v1/checklists?id=x", yamlOf(t, invalid), []string{"Content-Type: application/yaml"}, 422, checklist.EInvalid, invalidPaths},
		{"CreateErrTooLarge", "POST", "/v1/checklists", `{"id":"x","content":{"title":{"ja":"` + strings.Repeat("あ", 3<<20) + `"}}}`, nil, 413, checklist.ETooLarge, nil},

		{"ReplaceErrStaleRevision", "PUT", "/v1/checklists/unified/draft", map[string]any{"revision": 1, "content": smallContent("x")}, nil, 409, checklist.ERevision, nil},
		{"ReplaceErrStaleIfMatch", "PUT", "/v1/checklists/unified/draft", map[string]any{"content": smallContent("x")}, []string{`If-Match: "1"`}, 412, checklist.EPrecondition, nil},
		{"ReplaceErrWeakIfMatch", "PUT", "/v1/checklists/unified/draft", map[string]any{"content": smallContent("x")}, []string{`If-Match: W/"2"`}, 412, checklist.EPrecondition, nil},
		{"ReplaceErrIfMatchDisagrees", "PUT", "/v1/checklists/unified/draft", map[string]any{"revision": 1, "content": smallContent("x")}, []string{`If-Match: "2"`}, 422, checklist.EInvalid, []string{"revision"}},
		{"ReplaceErrNoRevision", "PUT", "/v1/checklists/unified/draft", map[string]any{"content": smallContent("x")}, nil, 422, checklist.EInvalid, []string{"revision"}},
		{"ReplaceErrNoContent", "PUT", "/v1/checklists/unified/draft", map[string]any{"revision": 2}, nil, 422, checklist.EInvalid, []string{"content"}},
		{"ReplaceErrYAMLInvalid", "PUT", "/v1/checklists/unified/draft?revision=2", yamlOf(t, invalid), []string{"Content-Type: application/yaml"}, 422, checklist.EInvalid, invalidPaths},
		{"ReplaceErrYAMLStale", "PUT", "/v1/checklists/unified/draft?revision=1", yamlOf(t, smallContent("x")), []string{"Content-Type: application/yaml"}, 409, checklist.ERevision, nil},
		{"ReplaceErrUnknownChecklist", "PUT", "/v1/checklists/nope/draft", map[string]any{"revision": 1, "content": smallContent("x")}, nil, 404, checklist.ENotFound, nil},

		{"PublishErrUnchanged", "POST", "/v1/checklists/same/publish", nil, nil, 409, checklist.EConflict, nil},
		{"PublishErrNumberPublished", "POST", "/v1/checklists/unified/publish", map[string]int{"number": 1}, nil, 409, checklist.EConflict, nil},
		{"PublishErrNumberNotNext", "POST", "/v1/checklists/unified/publish", map[string]int{"number": 5}, nil, 409, checklist.EConflict, nil},
		{"PublishErrStaleRevision", "POST", "/v1/checklists/unified/publish", map[string]int{"revision": 1}, nil, 409, checklist.ERevision, nil},
		{"PublishErrBadBody", "POST", "/v1/checklists/unified/publish", map[string]any{"revision": "two"}, nil, 400, checklist.EBadRequest, nil},
		{"PublishErrUnknownChecklist", "POST", "/v1/checklists/nope/publish", nil, nil, 404, checklist.ENotFound, nil},

		{"WriteVersionErrPut", "PUT", "/v1/checklists/unified/versions/1", map[string]any{"content": smallContent("x")}, nil, 409, checklist.EConflict, nil},
		{"WriteVersionErrPatch", "PATCH", "/v1/checklists/unified/versions/1", map[string]any{"retired": false}, nil, 409, checklist.EConflict, nil},
		{"WriteVersionErrDelete", "DELETE", "/v1/checklists/unified/versions/1", nil, nil, 409, checklist.EConflict, nil},
		{"WriteVersionErrUnknown", "PUT", "/v1/checklists/unified/versions/9", map[string]any{}, nil, 404, checklist.ENotFound, nil},

		{"GetVersionErrUnknown", "GET", "/v1/checklists/unified/versions/9", nil, nil, 404, checklist.ENotFound, nil},
		{"GetVersionErrNotANumber", "GET", "/v1/checklists/unified/versions/latest", nil, nil, 404, checklist.ENotFound, nil},
		{"GetVersionErrZero", "GET", "/v1/checklists/unified/versions/0", nil, nil, 404, checklist.ENotFound, nil},
		{"GetVersionErrUnknownChecklist", "GET", "/v1/checklists/nope/versions/1", nil, nil, 404, checklist.ENotFound, nil},
		{"GetVersionErrFormat", "GET", "/v1/checklists/unified/versions/1?format=xml", nil, nil, 400, checklist.EBadRequest, []string{"format"}},
		{"GetDraftErrUnknown", "GET", "/v1/checklists/nope/draft", nil, nil, 404, checklist.ENotFound, nil},
		{"GetErrUnknown", "GET", "/v1/checklists/nope", nil, nil, 404, checklist.ENotFound, nil},
		{"ListVersionsErrUnknown", "GET", "/v1/checklists/nope/versions", nil, nil, 404, checklist.ENotFound, nil},
		{"DiffErrUnknownVersion", "GET", "/v1/checklists/unified/versions/1/diff/7", nil, nil, 404, checklist.ENotFound, nil},
		{"DiffErrNotANumber", "GET", "/v1/checklists/unified/versions/1/diff/x", nil, nil, 404, checklist.ENotFound, nil},
		{"RetireErrUnknown", "POST", "/v1/checklists/unified/versions/4/retire", nil, nil, 404, checklist.ENotFound, nil},
		{"ValidateErrUnknown", "POST", "/v1/checklists/nope/draft/validate", nil, nil, 404, checklist.ENotFound, nil},

		{"ApplicabilityErrNoRevision", "PUT", "/v1/checklists/applicability", map[string]any{"default_checklist_id": "unified"}, nil, 422, checklist.EInvalid, []string{"revision"}},
		{"ApplicabilityErrUnknownChecklist", "PUT", "/v1/checklists/applicability", map[string]any{"revision": 0, "default_checklist_id": "nope"}, nil, 422, checklist.EInvalid, []string{"default_checklist_id"}},
		{"ApplicabilityErrUnknownKind", "PUT", "/v1/checklists/applicability", map[string]any{"revision": 0, "default_checklist_id": "unified", "kinds": map[string]string{"castle": "unified"}}, nil, 422, checklist.EInvalid, []string{"kinds.castle"}},
		{"ApplicabilityErrStale", "PUT", "/v1/checklists/applicability", map[string]any{"revision": 4, "default_checklist_id": "unified"}, nil, 409, checklist.ERevision, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.request(tc.method, tc.path, tc.body, append([]string{admin}, tc.headers...)...)
			p := r.problem(t, tc.status, tc.code)
			wantPaths(t, p.Errors, tc.fields)
			if tc.code == checklist.ERevision || tc.code == checklist.EPrecondition || tc.name == "CreateErrIDTaken" {
				if p.Current == nil {
					t.Errorf("no current copy in %s", r.Body)
				}
			}
			api.unchanged(t, admin, "unified", before)
			api.unchanged(t, admin, "same", sameBefore)
			if got := api.request("GET", "/v1/checklists", nil, admin).Body; !bytes.Equal(got, listBefore) {
				t.Fatalf("the list of checklists changed:\n%s\n%s", listBefore, got)
			}
		})
	}

	t.Run("YAMLErrorsNameLines", func(t *testing.T) {
		r := api.request("POST", "/v1/checklists?id=x", yamlOf(t, invalid), admin, "Content-Type: application/yaml")
		p := r.problem(t, 422, checklist.EInvalid)
		for _, f := range p.Errors {
			if !strings.HasPrefix(f.Message, "line ") {
				t.Errorf("%s: message %q names no line", f.Field, f.Message)
			}
		}
	})
	t.Run("ValidateErrEveryProblem", func(t *testing.T) {
		api.createChecklist(admin, "broken", invalid)
		p := api.request("POST", "/v1/checklists/broken/draft/validate", nil, admin).problem(t, 422, checklist.EInvalid)
		wantPaths(t, p.Errors, invalidPaths)
		p = api.request("POST", "/v1/checklists/broken/publish", nil, admin).problem(t, 422, checklist.EInvalid)
		wantPaths(t, p.Errors, invalidPaths)
		api.request("GET", "/v1/checklists/broken/versions/1", nil, admin).problem(t, 404, checklist.ENotFound)
	})
	t.Run("PublishedVersionNeverChanges", func(t *testing.T) {
		// After every refused write above, version 1 is the bytes it was.
		r := api.request("GET", "/v1/checklists/unified/versions/1", nil, admin, "Accept-Encoding: identity").wantStatus(t, 200)
		var v versionDownload
		r.decode(t, &v)
		if v.ContentHash != checklist.ContentHash(smallContent("一版")) || !v.Content.Equal(smallContent("一版")) ||
			r.Header.Get("ETag") != `"`+v.ContentHash+`"` {
			t.Fatalf("version 1 = %+v", v)
		}
	})
}

// yamlOf encodes c as a checklist file.
func yamlOf(t *testing.T, c checklist.Content) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := checklistfile.Encode(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestChecklistYAML(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	def := checklistfile.Default()

	var c checklistBody
	api.request("POST", "/v1/checklists?id=imported", yamlOf(t, def), admin, "Content-Type: application/yaml").
		wantStatus(t, http.StatusCreated).decode(t, &c)
	if c.ID != "imported" || c.Title != def.Title {
		t.Fatalf("imported %+v", c)
	}

	t.Run("ExportDraftRoundTrips", func(t *testing.T) {
		r := api.request("GET", "/v1/checklists/imported/draft?format=yaml", nil, admin).wantStatus(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
			t.Fatalf("Content-Type %q", ct)
		}
		if !bytes.Equal(r.Body, yamlOf(t, def)) {
			t.Fatal("the exported draft differs from the file imported")
		}
		// Import the export as the new draft (If-Match from the YAML ETag).
		var d draftBody
		api.request("PUT", "/v1/checklists/imported/draft", r.Body, admin, "Content-Type: application/yaml", "If-Match: "+r.Header.Get("ETag")).
			wantStatus(t, http.StatusOK).decode(t, &d)
		if d.Revision != 2 || !d.Content.Equal(def) {
			t.Fatalf("re-imported draft %+v", d.Revision)
		}
	})
	t.Run("ExportVersionAcceptHeader", func(t *testing.T) {
		v := api.publish(admin, "imported")
		r := api.request("GET", "/v1/checklists/imported/versions/1", nil, admin, "Accept: application/yaml").wantStatus(t, http.StatusOK)
		got, err := checklistfile.Decode(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		if checklist.ContentHash(got) != v.ContentHash {
			t.Fatal("the exported version does not round-trip")
		}
		api.request("GET", "/v1/checklists/imported/versions/1?format=yaml", nil, admin, "If-None-Match: "+r.Header.Get("ETag")).
			wantStatus(t, http.StatusNotModified)
		// A JSON request is not answered with the YAML's ETag.
		if api.request("GET", "/v1/checklists/imported/versions/1", nil, admin, "If-None-Match: "+r.Header.Get("ETag")).StatusCode != http.StatusOK {
			t.Fatal("the YAML ETag matched the JSON representation")
		}
	})
}

func TestVersionDownload(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	inspector := bearer(api.tokenFor(checklist.RoleInspector))
	api.createChecklist(admin, "unified", checklistfile.Default())
	v := api.publish(admin, "unified")
	etag := `"` + v.ContentHash + `"`
	path := "/v1/checklists/unified/versions/1"

	var identity []byte
	t.Run("OK", func(t *testing.T) {
		r := api.request("GET", path, nil, inspector, "Accept-Encoding: identity").wantStatus(t, http.StatusOK)
		for h, want := range map[string]string{
			"ETag":             etag,
			"Cache-Control":    "private, max-age=31536000, immutable",
			"Vary":             "Accept, Accept-Encoding",
			"Content-Type":     "application/json; charset=utf-8",
			"Content-Encoding": "",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		var d versionDownload
		r.decode(t, &d)
		if d.ChecklistID != "unified" || d.Number != 1 || d.ContentHash != v.ContentHash || checklist.ContentHash(d.Content) != v.ContentHash {
			t.Fatalf("download %+v", d.ContentHash)
		}
		if r.ContentLength != int64(len(r.Body)) {
			t.Fatalf("Content-Length %d for %d bytes", r.ContentLength, len(r.Body))
		}
		identity = r.Body
	})
	t.Run("OKGzip", func(t *testing.T) {
		r := api.request("GET", path, nil, inspector, "Accept-Encoding: gzip, deflate").wantStatus(t, http.StatusOK)
		if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("ETag") != etag || r.Header.Get("Vary") != "Accept, Accept-Encoding" {
			t.Fatalf("headers %v", r.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, identity) {
			t.Fatal("the gzip body is not the identity body compressed")
		}
		if len(r.Body)*3 > len(identity) {
			t.Errorf("gzip %d bytes for %d: poorly compressed", len(r.Body), len(identity))
		}
		if r := api.request("GET", path, nil, inspector, "Accept-Encoding: gzip;q=0, identity").wantStatus(t, 200); r.Header.Get("Content-Encoding") != "" {
			t.Fatal("gzip sent although refused with q=0")
		}
	})
	t.Run("OKNotModified", func(t *testing.T) {
		for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
			r := api.request("GET", path, nil, inspector, "If-None-Match: "+inm, "Accept-Encoding: gzip").wantStatus(t, http.StatusNotModified)
			if len(r.Body) != 0 || r.Header.Get("ETag") != etag || r.Header.Get("Cache-Control") == "" {
				t.Fatalf("If-None-Match %s: 304 with body %q, headers %v", inm, r.Body, r.Header)
			}
		}
		api.request("GET", path, nil, inspector, `If-None-Match: "stale"`).wantStatus(t, http.StatusOK)
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		// Cacheable for a year, but never without a token.
		api.request("GET", path, nil).problem(t, http.StatusUnauthorized, checklist.EUnauthorized)
		api.request("GET", path, nil, "If-None-Match: "+etag).problem(t, http.StatusUnauthorized, checklist.EUnauthorized)
	})
	t.Run("ServedFromMemory", func(t *testing.T) {
		// Once read, a version is served without the database: drop it and
		// the download still answers, byte for byte.
		if err := api.db.Drop(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := api.request("GET", path, nil, inspector, "Accept-Encoding: identity").wantStatus(t, http.StatusOK)
		if !bytes.Equal(r.Body, identity) {
			t.Fatal("the cached body differs")
		}
	})
}

func TestManifest(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	hall := api.createFacility("HALL-1") // a public hall
	lab := api.createFacilityOfKind("LAB-1", checklist.KindResearch)
	inspector := bearer(api.tokenFor(checklist.RoleInspector, hall, lab))

	var m manifestBody
	t.Run("OKNothingPublished", func(t *testing.T) {
		api.request("GET", "/v1/checklists/manifest", nil, inspector).wantStatus(t, http.StatusOK).decode(t, &m)
		if len(m.Facilities) != 2 || m.Facilities[hall] != nil || m.Facilities[lab] != nil {
			t.Fatalf("manifest %+v", m)
		}
	})

	api.createChecklist(admin, "unified", smallContent("統一"))
	v1 := api.publish(admin, "unified")
	api.createChecklist(admin, "research", smallContent("研究施設用"))
	r1 := api.publish(admin, "research")
	api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": 0, "default_checklist_id": "unified",
		"kinds": map[string]string{"research": "research"}}, admin).wantStatus(t, http.StatusOK)

	var etag string
	t.Run("OKInspector", func(t *testing.T) {
		r := api.request("GET", "/v1/checklists/manifest", nil, inspector).wantStatus(t, http.StatusOK)
		var m manifestBody
		r.decode(t, &m)
		want := map[string]manifestEntryBody{
			hall: {ChecklistID: "unified", Version: 1, ContentHash: v1.ContentHash, URL: "/v1/checklists/unified/versions/1"},
			lab:  {ChecklistID: "research", Version: 1, ContentHash: r1.ContentHash, URL: "/v1/checklists/research/versions/1"},
		}
		if len(m.Facilities) != 2 || m.Default != nil || m.Kinds != nil {
			t.Fatalf("manifest %s", r.Body)
		}
		for id, w := range want {
			if got := m.Facilities[id]; got == nil || *got != w {
				t.Fatalf("facility %s: %+v, want %+v", id, got, w)
			}
		}
		etag = r.Header.Get("ETag")
		api.request("GET", "/v1/checklists/manifest", nil, inspector, "If-None-Match: "+etag).wantStatus(t, http.StatusNotModified)
	})
	t.Run("OKStaff", func(t *testing.T) {
		var m manifestBody
		api.request("GET", "/v1/checklists/manifest", nil, admin).wantStatus(t, http.StatusOK).decode(t, &m)
		if m.Facilities != nil || m.Default == nil || m.Default.ChecklistID != "unified" || len(m.Kinds) != len(checklist.FacilityKinds) ||
			m.Kinds["research"].ChecklistID != "research" || m.Kinds["public_hall"].ChecklistID != "unified" {
			t.Fatalf("manifest %+v", m)
		}
	})
	t.Run("OKChangesWithNewVersion", func(t *testing.T) {
		api.replaceDraft(admin, "unified", 1, smallContent("統一 二版"))
		v2 := api.publish(admin, "unified")
		r := api.request("GET", "/v1/checklists/manifest", nil, inspector, "If-None-Match: "+etag).wantStatus(t, http.StatusOK)
		var m manifestBody
		r.decode(t, &m)
		if e := m.Facilities[hall]; e.Version != 2 || e.ContentHash != v2.ContentHash {
			t.Fatalf("after publishing 2: %+v", e)
		}
		// Retiring version 2 offers version 1 again.
		api.request("POST", "/v1/checklists/unified/versions/2/retire", nil, admin).wantStatus(t, http.StatusOK)
		api.request("GET", "/v1/checklists/manifest", nil, inspector).decode(t, &m)
		if e := m.Facilities[hall]; e.Version != 1 {
			t.Fatalf("after retiring 2: %+v", e)
		}
		if r := api.request("GET", "/v1/checklists/manifest", nil, inspector, "If-None-Match: "+etag); r.StatusCode != http.StatusNotModified {
			t.Fatalf("back to version 1, the manifest is what it was: status %d", r.StatusCode)
		}
	})
	// The manifest is kept in memory per caller: a facility's change of
	// kind must show at once all the same.
	t.Run("OKChangesWithFacilityKind", func(t *testing.T) {
		api.request("PATCH", "/v1/facilities/"+hall, map[string]any{"revision": 1, "kind": "research"}, admin).wantStatus(t, http.StatusOK)
		var m manifestBody
		api.request("GET", "/v1/checklists/manifest", nil, inspector).wantStatus(t, http.StatusOK).decode(t, &m)
		if e := m.Facilities[hall]; e == nil || e.ChecklistID != "research" {
			t.Fatalf("after the hall became a research facility: %+v", e)
		}
	})
}

// TestPublishConcurrentRequests races eight publish requests for one
// draft: exactly one creates version 1, the others are 409.
func TestPublishConcurrentRequests(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	api.createChecklist(admin, "unified", smallContent("一"))
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = api.request("POST", "/v1/checklists/unified/publish", map[string]int{"number": 1}, admin).StatusCode
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if want := []int{201, 409, 409, 409, 409, 409, 409, 409}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	var list struct {
		Items []versionSummary `json:"items"`
	}
	api.request("GET", "/v1/checklists/unified/versions", nil, admin).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d versions", len(list.Items))
	}
}

// TestAuthoringMistakes makes one mistake at a time in a valid draft and
// checks that publishing refuses it with 422 naming the mistake's path
// and code, and stores nothing.
func TestAuthoringMistakes(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	f := func(v float64) *float64 { return &v }
	choice := func(it *checklist.Item) {
		it.Type, it.Scale, it.FailRule = checklist.TypeSingleChoice, nil, &checklist.FailRule{AnyOf: []string{"none"}}
		it.Options = []checklist.Option{{Key: "all", Label: checklist.Text{Ja: "すべて"}}, {Key: "none", Label: checklist.Text{Ja: "なし"}}}
	}
	mistakes := []struct {
		name  string
		edit  func(c *checklist.Content)
		field string
		code  string
	}{
		{"NoTitle", func(c *checklist.Content) { c.Title = checklist.Text{} }, "title.ja", checklist.CodeRequired},
		{"EnglishOnlyTitle", func(c *checklist.Content) { c.Title.Ja = " " }, "title.ja", checklist.CodeRequired},
		{"NoSections", func(c *checklist.Content) { c.Sections = nil }, "sections", checklist.CodeRequired},
		{"EmptySection", func(c *checklist.Content) { c.Sections[0].Items = nil }, "sections[0].items", checklist.CodeEmptySection},
		{"BadSectionKey", func(c *checklist.Content) { c.Sections[0].Key = "Flyers!" }, "sections[0].key", checklist.CodeBadKey},
		{"DuplicateSectionKey", func(c *checklist.Content) { c.Sections = append(c.Sections, c.Sections[0]) }, "sections[1].key", checklist.CodeDuplicateKey},
		{"DuplicateItemKey", func(c *checklist.Content) { c.Sections[0].Items[1].Key = "flyers.sorted" }, "sections[0].items[1].key", checklist.CodeDuplicateKey},
		{"NoItemText", func(c *checklist.Content) { c.Sections[0].Items[0].Text = checklist.Text{} }, "sections[0].items[0].text.ja", checklist.CodeRequired},
		{"TextTooLong", func(c *checklist.Content) { c.Sections[0].Items[0].Text.Ja = strings.Repeat("長", 2001) }, "sections[0].items[0].text.ja", checklist.CodeTooLong},
		{"ControlCharacter", func(c *checklist.Content) { c.Sections[0].Items[0].Text.Ja = "ベル\a" }, "sections[0].items[0].text.ja", checklist.CodeBadText},
		{"UnknownType", func(c *checklist.Content) { c.Sections[0].Items[0].Type = "checkbox" }, "sections[0].items[0].type", checklist.CodeUnknownType},
		{"NoType", func(c *checklist.Content) { c.Sections[0].Items[0].Type = "" }, "sections[0].items[0].type", checklist.CodeRequired},
		{"AllowNAOnRating", func(c *checklist.Content) { c.Sections[0].Items[2].AllowNA = true }, "sections[0].items[2].allow_na", checklist.CodeNotForType},
		{"ScaleTooShort", func(c *checklist.Content) { c.Sections[0].Items[2].Scale = c.Sections[0].Items[2].Scale[:1] }, "sections[0].items[2].scale", checklist.CodeRatingScale},
		{"ThresholdOutOfRange", func(c *checklist.Content) { c.Sections[0].Items[2].FailRule.AtOrBelow = 3 }, "sections[0].items[2].fail_rule.at_or_below", checklist.CodeThresholdOutOfRange},
		{"FailRuleWrongPart", func(c *checklist.Content) { c.Sections[0].Items[0].FailRule = &checklist.FailRule{AtOrBelow: 1} }, "sections[0].items[0].fail_rule.at_or_below", checklist.CodeFailRuleTypeMismatch},
		{"FailRuleBadAnswer", func(c *checklist.Content) { c.Sections[0].Items[0].FailRule.Answer = "maybe" }, "sections[0].items[0].fail_rule.answer", checklist.CodeBadValue},
		{"EmptyFailRule", func(c *checklist.Content) { c.Sections[0].Items[0].FailRule = &checklist.FailRule{} }, "sections[0].items[0].fail_rule", checklist.CodeFailRuleEmpty},
		{"PointsWithoutFailRule", func(c *checklist.Content) { c.Sections[0].Items[0].FailRule = nil }, "sections[0].items[0].points", checklist.CodePointsWithoutRule},
		{"NegativePoints", func(c *checklist.Content) { c.Sections[0].Items[0].Points = -1 }, "sections[0].items[0].points", checklist.CodeNegativePoints},
		{"TooManyPoints", func(c *checklist.Content) { c.Sections[0].Items[0].Points = 101 }, "sections[0].items[0].points", checklist.CodeTooLarge},
		{"PointsOnText", func(c *checklist.Content) {
			c.Sections[0].Items[0].Type, c.Sections[0].Items[0].FailRule = checklist.TypeText, nil
		}, "sections[0].items[0].points", checklist.CodePointsNotScored},
		{"NoOptions", func(c *checklist.Content) {
			choice(&c.Sections[0].Items[2])
			c.Sections[0].Items[2].Options = nil
		}, "sections[0].items[2].options", checklist.CodeNoOptions},
		{"OneOption", func(c *checklist.Content) {
			choice(&c.Sections[0].Items[2])
			c.Sections[0].Items[2].Options = c.Sections[0].Items[2].Options[1:]
		}, "sections[0].items[2].options", checklist.CodeTooFewOptions},
		{"DuplicateOption", func(c *checklist.Content) {
			choice(&c.Sections[0].Items[2])
			c.Sections[0].Items[2].Options[1].Key = "all"
		}, "sections[0].items[2].options[1].key", checklist.CodeDuplicateOption},
		{"FailOnUnknownOption", func(c *checklist.Content) {
			choice(&c.Sections[0].Items[2])
			c.Sections[0].Items[2].FailRule.AnyOf = []string{"some"}
		}, "sections[0].items[2].fail_rule.any_of[0]", checklist.CodeUnknownOption},
		{"FailOnEveryOption", func(c *checklist.Content) {
			choice(&c.Sections[0].Items[2])
			c.Sections[0].Items[2].FailRule.AnyOf = []string{"all", "none"}
		}, "sections[0].items[2].fail_rule.any_of", checklist.CodeFailRuleAlways},
		{"NumberMinAboveMax", func(c *checklist.Content) {
			it := &c.Sections[0].Items[2]
			it.Type, it.Scale, it.Number, it.FailRule = checklist.TypeNumber, nil, &checklist.NumberSpec{Min: f(10), Max: f(1)}, &checklist.FailRule{Max: f(5)}
		}, "sections[0].items[2].number.min", checklist.CodeMinGreaterThanMax},
		{"PhotoNeedsNoFailRule", func(c *checklist.Content) {
			c.Sections[0].Items[0].FailRule, c.Sections[0].Items[0].Points = nil, 0
			c.Sections[0].Items[0].FailedNeedsComment = true
		}, "sections[0].items[0].failed_needs_comment", checklist.CodeNoFailRule},
		{"ShowIfUnknownItem", func(c *checklist.Content) {
			c.Sections[0].Items[1].ShowIf = &checklist.ShowIf{Item: "nowhere", Equals: "yes"}
		}, "sections[0].items[1].show_if.item", checklist.CodeShowIfUnknown},
		{"ShowIfForward", func(c *checklist.Content) {
			c.Sections[0].Items[0].ShowIf = &checklist.ShowIf{Item: "flyers.outdated_removed", Equals: "yes"}
		}, "sections[0].items[0].show_if.item", checklist.CodeShowIfForward},
		{"ShowIfSelf", func(c *checklist.Content) {
			c.Sections[0].Items[1].ShowIf = &checklist.ShowIf{Item: "flyers.outdated_removed", Equals: "yes"}
		}, "sections[0].items[1].show_if.item", checklist.CodeShowIfSelf},
		{"ShowIfImpossibleValue", func(c *checklist.Content) {
			c.Sections[0].Items[1].ShowIf = &checklist.ShowIf{Item: "flyers.sorted", Equals: "perhaps"}
		}, "sections[0].items[1].show_if.equals", checklist.CodeShowIfValue},
	}
	for i, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			c := smallContent("点検")
			m.edit(&c)
			id := fmt.Sprintf("mistake-%d", i)
			wantMistake := func(what string, r response) {
				t.Helper()
				p := r.problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
				if !slices.ContainsFunc(p.Errors, func(f checklist.FieldError) bool { return f.Field == m.field && f.Code == m.code }) {
					t.Fatalf("%s: no %s at %s in %+v", what, m.code, m.field, p.Errors)
				}
			}
			// Sizes beyond the limits are refused even in a draft;
			// everything else may be saved as work in progress and is
			// refused when validated or published.
			r := api.request("POST", "/v1/checklists", map[string]any{"id": id, "content": c}, admin)
			if m.code == checklist.CodeTooLong {
				wantMistake("create", r)
				api.request("GET", "/v1/checklists/"+id, nil, admin).wantStatus(t, http.StatusNotFound)
				return
			}
			r.wantStatus(t, http.StatusCreated)
			for _, path := range []string{"/draft/validate", "/publish"} {
				wantMistake(path, api.request("POST", "/v1/checklists/"+id+path, nil, admin))
			}
			var list struct {
				Items []versionSummary `json:"items"`
			}
			api.request("GET", "/v1/checklists/"+id+"/versions", nil, admin).decode(t, &list)
			if len(list.Items) != 0 {
				t.Fatal("a version was stored")
			}
		})
	}
	if len(mistakes) < 20 {
		t.Fatalf("%d kinds of mistakes; the contract promises at least 20", len(mistakes))
	}
}

func TestChecklistAuthorization(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	api.createChecklist(admin, "unified", smallContent("一"))
	api.publish(admin, "unified")
	api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": 0, "default_checklist_id": "unified"}, admin).wantStatus(t, 200)

	callers := []struct {
		name string
		auth []string
	}{
		{"admin", []string{admin}},
		{"reviewer", []string{bearer(api.tokenFor(checklist.RoleReviewer))}},
		{"inspector", []string{bearer(api.tokenFor(checklist.RoleInspector))}},
		{"anonymous", nil},
	}
	var seq int
	next := func() string { seq++; return fmt.Sprintf("c%d", seq) }
	// Rows that change something get a checklist of their own, so that
	// the rows do not depend on each other.
	fresh := func(publish bool) string {
		id := next()
		api.createChecklist(admin, id, smallContent(id))
		if publish {
			api.publish(admin, id)
		}
		return id
	}
	fixed := func(path string) func() string { return func() string { return path } }
	applicabilityRev := func() any {
		var a struct {
			Revision int `json:"revision"`
		}
		api.request("GET", "/v1/checklists/applicability", nil, admin).decode(t, &a)
		return map[string]any{"revision": a.Revision, "default_checklist_id": "unified"}
	}
	rows := []struct {
		route string // the route, as the router names it
		path  func() string
		body  func() any
		want  [4]int // admin, reviewer, inspector, anonymous
	}{
		{"GET /v1/checklists", fixed("/v1/checklists"), nil, [4]int{200, 200, 403, 401}},
		{"POST /v1/checklists", fixed("/v1/checklists"), func() any { return map[string]any{"id": next(), "content": smallContent("x")} }, [4]int{201, 403, 403, 401}},
		{"GET /v1/checklists/manifest", fixed("/v1/checklists/manifest"), nil, [4]int{200, 200, 200, 401}},
		{"GET /v1/checklists/applicability", fixed("/v1/checklists/applicability"), nil, [4]int{200, 200, 403, 401}},
		{"PUT /v1/checklists/applicability", fixed("/v1/checklists/applicability"), applicabilityRev, [4]int{200, 403, 403, 401}},
		{"GET /v1/checklists/{id}", fixed("/v1/checklists/unified"), nil, [4]int{200, 200, 403, 401}},
		{"GET /v1/checklists/{id}/draft", fixed("/v1/checklists/unified/draft"), nil, [4]int{200, 200, 403, 401}},
		{"PUT /v1/checklists/{id}/draft", func() string { return "/v1/checklists/" + fresh(false) + "/draft" }, func() any {
			return map[string]any{"revision": 1, "content": smallContent("改")}
		}, [4]int{200, 403, 403, 401}},
		{"POST /v1/checklists/{id}/draft/validate", fixed("/v1/checklists/unified/draft/validate"), nil, [4]int{200, 200, 403, 401}},
		{"POST /v1/checklists/{id}/publish", func() string { return "/v1/checklists/" + fresh(false) + "/publish" }, nil, [4]int{201, 403, 403, 401}},
		{"GET /v1/checklists/{id}/versions", fixed("/v1/checklists/unified/versions"), nil, [4]int{200, 200, 200, 401}},
		{"GET /v1/checklists/{id}/versions/{n}", fixed("/v1/checklists/unified/versions/1"), nil, [4]int{200, 200, 200, 401}},
		{"PUT /v1/checklists/{id}/versions/{n}", fixed("/v1/checklists/unified/versions/1"), func() any { return map[string]any{} }, [4]int{409, 403, 403, 401}},
		{"PATCH /v1/checklists/{id}/versions/{n}", fixed("/v1/checklists/unified/versions/1"), func() any { return map[string]any{} }, [4]int{409, 403, 403, 401}},
		{"DELETE /v1/checklists/{id}/versions/{n}", fixed("/v1/checklists/unified/versions/1"), nil, [4]int{409, 403, 403, 401}},
		{"POST /v1/checklists/{id}/versions/{n}/retire", func() string { return "/v1/checklists/" + fresh(true) + "/versions/1/retire" }, nil, [4]int{200, 403, 403, 401}},
		{"GET /v1/checklists/{id}/versions/{n}/diff/{to}", fixed("/v1/checklists/unified/versions/1/diff/1"), nil, [4]int{200, 200, 200, 401}},
	}
	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.route] = true
		method, _, _ := strings.Cut(row.route, " ")
		for i, c := range callers {
			t.Run(row.route+" as "+c.name, func(t *testing.T) {
				path := row.path()
				var body any
				if row.body != nil {
					body = row.body()
				}
				r := api.request(method, path, body, c.auth...)
				if r.StatusCode != row.want[i] {
					t.Fatalf("%s %s as %s: status %d, want %d; body: %s", method, path, c.name, r.StatusCode, row.want[i], r.Body)
				}
			})
		}
	}

	// Every checklist route has its row: a route without one is an
	// authorization decision nobody checked.
	s, err := handlers.NewServer(handlers.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Routes() {
		route := r.Method + " " + ginParam.ReplaceAllString(r.Path, "{$1}")
		if strings.HasPrefix(r.Path, "/v1/checklists") && !covered[route] {
			t.Errorf("%s has no row in the authorization table", route)
		}
	}
}
