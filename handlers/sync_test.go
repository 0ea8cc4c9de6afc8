package handlers_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
	"tenken/handlers"
)

// syncBody is the sync response as the checklist tests read it.
type syncBody struct {
	Facilities []struct {
		ID string `json:"id"`
	} `json:"facilities"`
	Checklists struct {
		Versions []struct {
			versionSummary
			PublishedAt time.Time `json:"published_at"`
		} `json:"versions"`
		Manifest *manifestBody `json:"manifest"`
	} `json:"checklists"`
	Cursor  string `json:"cursor"`
	HasMore bool   `json:"has_more"`
}

// tablet is one device syncing as a user, remembering its cursor.
type tablet struct {
	api    *testAPI
	auth   string
	cursor string
}

func (tb *tablet) sync(t *testing.T) syncBody {
	t.Helper()
	path := "/v1/sync"
	if tb.cursor != "" {
		path += "?since=" + tb.cursor
	}
	var s syncBody
	tb.api.request("GET", path, nil, tb.auth).wantStatus(t, http.StatusOK).decode(t, &s)
	if s.Checklists.Versions == nil {
		t.Fatal("checklists.versions is missing")
	}
	tb.cursor = s.Cursor
	return s
}

// versionsOf names the versions of a sync as "checklist:number" (with
// "+retired" when retired).
func versionsOf(s syncBody) []string {
	var out []string
	for _, v := range s.Checklists.Versions {
		n := v.ChecklistID + ":" + strconv.Itoa(v.Number)
		if v.Retired {
			n += "+retired"
		}
		out = append(out, n)
	}
	return out
}

// TestSyncChecklists: a tablet that only calls sync learns of new and
// retired versions of the checklists that apply to its user's facilities,
// and of changes of which version applies, once each (plus the overlap),
// and nothing about checklists that apply to none of them.
func TestSyncChecklists(t *testing.T) {
	t.Parallel()
	// Tokens that outlive the many minutes the clock is moved by.
	api := newTestAPIWith(t, func(c *handlers.Config) { c.AccessTTL = 24 * time.Hour })
	api.db.Now = api.clk.Now // one clock for stamps and cursors
	ctx := context.Background()
	admin := bearer(api.tokenFor(checklist.RoleAdmin))
	hall := api.createFacility("HALL-1") // a public hall
	lab := api.createFacilityOfKind("LAB-1", checklist.KindResearch)
	hallTab := &tablet{api: api, auth: bearer(api.tokenFor(checklist.RoleInspector, hall))}
	labTab := &tablet{api: api, auth: bearer(api.tokenFor(checklist.RoleInspector, lab))}
	reviewerTab := &tablet{api: api, auth: bearer(api.tokenFor(checklist.RoleReviewer))}

	api.createChecklist(admin, "unified", smallContent("統一"))
	u1 := api.publish(admin, "unified")
	api.createChecklist(admin, "research", smallContent("研究施設用"))
	api.publish(admin, "research")
	api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": 0, "default_checklist_id": "unified",
		"kinds": map[string]string{"research": "research"}}, admin).wantStatus(t, http.StatusOK)
	publishedAt := api.clk.Now()

	// later moves the clock past the sync overlap.
	later := func() { api.clk.Advance(time.Minute) }

	t.Run("FullSync", func(t *testing.T) {
		s := hallTab.sync(t)
		if got := versionsOf(s); !slices.Equal(got, []string{"unified:1"}) {
			t.Fatalf("versions %v, want only the hall's checklist", got)
		}
		v := s.Checklists.Versions[0]
		if v.ContentHash != u1.ContentHash || v.URL != "/v1/checklists/unified/versions/1" || !v.PublishedAt.Equal(publishedAt.Truncate(time.Millisecond)) {
			t.Fatalf("version %+v", v)
		}
		m := s.Checklists.Manifest
		if m == nil || len(m.Facilities) != 1 || m.Facilities[hall] == nil ||
			*m.Facilities[hall] != (manifestEntryBody{ChecklistID: "unified", Version: 1, ContentHash: u1.ContentHash, URL: v.URL}) {
			t.Fatalf("manifest %+v", m)
		}
		// What the sync names is what the download serves: its ETag is the hash.
		api.request("GET", v.URL, nil, hallTab.auth, `If-None-Match: "`+v.ContentHash+`"`).wantStatus(t, http.StatusNotModified)
		labTab.sync(t)
		reviewerTab.sync(t)
	})
	t.Run("OnceThenNotAgain", func(t *testing.T) {
		later()
		if s := hallTab.sync(t); !slices.Equal(versionsOf(s), []string{"unified:1"}) {
			t.Fatalf("within the overlap: %v, want the version again", versionsOf(s))
		}
		later()
		if s := hallTab.sync(t); len(s.Checklists.Versions) != 0 || s.Checklists.Manifest != nil {
			t.Fatalf("nothing changed, yet %+v", s.Checklists)
		}
		labTab.sync(t)
		reviewerTab.sync(t)
		later()
		labTab.sync(t)
		reviewerTab.sync(t)
	})

	t.Run("Publish", func(t *testing.T) {
		later()
		api.replaceDraft(admin, "unified", 1, smallContent("統一 二版"))
		u2 := api.publish(admin, "unified")
		later()
		s := hallTab.sync(t)
		if got := versionsOf(s); !slices.Equal(got, []string{"unified:2"}) {
			t.Fatalf("versions %v, want the new version", got)
		}
		if v := s.Checklists.Versions[0]; v.ContentHash != u2.ContentHash || v.URL != "/v1/checklists/unified/versions/2" || v.PublishedAt.IsZero() {
			t.Fatalf("version %+v", v)
		}
		if m := s.Checklists.Manifest; m == nil || m.Facilities[hall].Version != 2 || m.Facilities[hall].ContentHash != u2.ContentHash {
			t.Fatalf("manifest %+v", m)
		}
		// The lab's checklist is another: its tablet hears nothing.
		if s := labTab.sync(t); len(s.Checklists.Versions) != 0 || s.Checklists.Manifest != nil {
			t.Fatalf("the lab's tablet learns of a checklist that does not apply to it: %+v", s.Checklists)
		}
		// Staff hear of every checklist.
		if s := reviewerTab.sync(t); !slices.Equal(versionsOf(s), []string{"unified:2"}) || s.Checklists.Manifest == nil ||
			s.Checklists.Manifest.Kinds["public_hall"].Version != 2 || s.Checklists.Manifest.Kinds["research"].ChecklistID != "research" {
			t.Fatalf("reviewer: %+v", s.Checklists)
		}
		later()
		hallTab.sync(t) // past the overlap
		later()
		if s := hallTab.sync(t); len(s.Checklists.Versions) != 0 || s.Checklists.Manifest != nil {
			t.Fatalf("after the cursor passed it: %+v", s.Checklists)
		}
	})

	t.Run("Retire", func(t *testing.T) {
		later()
		api.request("POST", "/v1/checklists/unified/versions/2/retire", nil, admin).wantStatus(t, http.StatusOK)
		later()
		s := hallTab.sync(t)
		if got := versionsOf(s); !slices.Equal(got, []string{"unified:2+retired"}) || s.Checklists.Versions[0].RetiredAt == "" {
			t.Fatalf("versions %v, want version 2 retired", got)
		}
		if m := s.Checklists.Manifest; m == nil || m.Facilities[hall].Version != 1 {
			t.Fatalf("manifest %+v, want version 1 again", m)
		}
		if s := labTab.sync(t); len(s.Checklists.Versions) != 0 || s.Checklists.Manifest != nil {
			t.Fatalf("the lab's tablet: %+v", s.Checklists)
		}
		later()
		hallTab.sync(t)
		labTab.sync(t)
	})

	t.Run("ApplicabilityChange", func(t *testing.T) {
		later()
		var a struct {
			Revision int `json:"revision"`
		}
		api.request("GET", "/v1/checklists/applicability", nil, admin).wantStatus(t, http.StatusOK).decode(t, &a)
		api.request("PUT", "/v1/checklists/applicability", map[string]any{"revision": a.Revision, "default_checklist_id": "unified",
			"kinds": map[string]string{"research": "research", "public_hall": "research"}}, admin).wantStatus(t, http.StatusOK)
		later()
		s := hallTab.sync(t)
		if m := s.Checklists.Manifest; m == nil || m.Facilities[hall].ChecklistID != "research" || m.Facilities[hall].Version != 1 {
			t.Fatalf("manifest %+v, want the research checklist for the hall", m)
		}
		if len(s.Checklists.Versions) != 0 {
			t.Fatalf("versions %v: none was published or retired", versionsOf(s))
		}
		if s := labTab.sync(t); s.Checklists.Manifest == nil || s.Checklists.Manifest.Facilities[lab].ChecklistID != "research" {
			t.Fatalf("the lab's manifest after an applicability change: %+v", s.Checklists.Manifest)
		}
		later()
		hallTab.sync(t)
		labTab.sync(t)
	})

	t.Run("FacilityKindChange", func(t *testing.T) {
		later()
		f, err := api.db.FindFacility(ctx, lab)
		if err != nil {
			t.Fatal(err)
		}
		api.request("PATCH", "/v1/facilities/"+lab, map[string]any{"revision": f.Revision, "kind": "other"}, admin).
			wantStatus(t, http.StatusOK)
		later()
		s := labTab.sync(t)
		if len(s.Facilities) != 1 || s.Checklists.Manifest == nil || s.Checklists.Manifest.Facilities[lab].ChecklistID != "unified" {
			t.Fatalf("after the lab became another kind: facilities %+v, manifest %+v", s.Facilities, s.Checklists.Manifest)
		}
		if s := hallTab.sync(t); s.Checklists.Manifest != nil {
			t.Fatalf("another facility's change reached the hall's tablet: %+v", s.Checklists.Manifest)
		}
	})

	// A tablet keeps its cursor across a server upgrade: one written
	// before cursors carried a format version still syncs from where it was.
	t.Run("CursorFromBeforeVersions", func(t *testing.T) {
		b, err := base64.RawURLEncoding.DecodeString(hallTab.cursor)
		if err != nil {
			t.Fatal(err)
		}
		old, ok := strings.CutPrefix(string(b), "1|")
		if !ok {
			t.Fatalf("cursor %q has no version", b)
		}
		var now, before syncBody
		api.request("GET", "/v1/sync?since="+hallTab.cursor, nil, hallTab.auth).wantStatus(t, http.StatusOK).decode(t, &now)
		api.request("GET", "/v1/sync?since="+base64.RawURLEncoding.EncodeToString([]byte(old)), nil, hallTab.auth).
			wantStatus(t, http.StatusOK).decode(t, &before)
		if before.Cursor != now.Cursor || len(before.Facilities) != len(now.Facilities) {
			t.Fatalf("the old cursor synced to %+v, the current one to %+v", before, now)
		}
	})

	t.Run("ErrBadCursor", func(t *testing.T) {
		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, c := range []string{"garbage", cursor("sync|soon|"), cursor("inspections|1|x"), cursor("sync|1"),
			cursor("2|sync|1|x"), cursor("1|inspections|1|x"), cursor("1|sync|1")} {
			api.request("GET", "/v1/sync?since="+c, nil, hallTab.auth).problem(t, http.StatusBadRequest, checklist.EBadRequest)
		}
	})
}
