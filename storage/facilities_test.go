package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tenken/checklist"
	"tenken/storage/storagetest"
)

func asError(err error, e **checklist.Error) bool { return errors.As(err, e) }

func join(s []string) string { return strings.Join(s, " ") }

func TestFacilities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	add := func(code, ja, en string, kind checklist.FacilityKind, active bool) checklist.Facility {
		t.Helper()
		f, err := db.CreateFacility(ctx, checklist.Facility{Code: code, Name: checklist.FacilityName{JA: ja, EN: en}, Kind: kind, Department: "産業労働局", Active: active}, actor("admin-1"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := add("vt-tama", "多摩職業能力開発センター", "Tama Vocational Skills Development Center", checklist.KindVocationalTraining, true)
	b := add("LC-01", "労働相談情報センター", "Labour Consultation Center", checklist.KindLabourConsultation, true)
	c := add("RS-01", "産業技術研究センター", "Industrial Technology Research Institute", checklist.KindResearch, false)

	t.Run("ErrDuplicateCode", func(t *testing.T) {
		_, err := db.CreateFacility(ctx, checklist.Facility{Code: "VT-TAMA", Name: a.Name, Kind: a.Kind}, actor("admin-1"))
		if checklist.ErrorCode(err) != checklist.EConflict {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ByCode", func(t *testing.T) {
		f, err := db.FindFacilityByCode(ctx, "vt-tama")
		if err != nil || f.ID != a.ID {
			t.Fatalf("FindFacilityByCode = %+v, %v", f, err)
		}
	})
	codes := func(q checklist.FacilityQuery) string {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 50
		}
		page, err := db.ListFacilities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, f := range page.Items {
			s = append(s, f.Code)
		}
		return join(s)
	}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    checklist.FacilityQuery
		want string
	}{
		{"All", checklist.FacilityQuery{}, "LC-01 RS-01 VT-TAMA"},
		{"Active", checklist.FacilityQuery{Active: &yes}, "LC-01 VT-TAMA"},
		{"Inactive", checklist.FacilityQuery{Active: &no}, "RS-01"},
		{"Kind", checklist.FacilityQuery{Kind: checklist.KindResearch}, "RS-01"},
		{"TextJapanese", checklist.FacilityQuery{Text: "相談"}, "LC-01"},
		{"TextCaseInsensitive", checklist.FacilityQuery{Text: "tama"}, "VT-TAMA"},
		{"TextIsNotARegexp", checklist.FacilityQuery{Text: ".*"}, ""},
		{"Within", checklist.FacilityQuery{Within: []string{b.ID, c.ID}}, "LC-01 RS-01"},
		{"WithinNone", checklist.FacilityQuery{Within: []string{}}, ""},
		{"After", checklist.FacilityQuery{After: "LC-01"}, "RS-01 VT-TAMA"},
	} {
		t.Run("List"+tc.name, func(t *testing.T) {
			if got := codes(tc.q); got != tc.want {
				t.Fatalf("codes = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("UpdateDeactivates", func(t *testing.T) {
		f, err := db.UpdateFacility(ctx, a.ID, 1, actor("admin-1"), checklist.FacilityChange{Active: &no}.Apply)
		if err != nil || f.Active || f.Revision != 2 {
			t.Fatalf("update = %+v, %v", f, err)
		}
	})
	t.Run("FindAfterUpdate", func(t *testing.T) {
		// Reports have read (and the owner keeps) the list; a find
		// after a change reads the change.
		if _, err := db.FindFacility(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		name := checklist.FacilityName{JA: "労働相談情報センター本所", EN: "Labour Consultation Center (main)"}
		if _, err := db.UpdateFacility(ctx, b.ID, 1, actor("admin-1"), checklist.FacilityChange{Name: &name}.Apply); err != nil {
			t.Fatal(err)
		}
		if f, err := db.FindFacility(ctx, b.ID); err != nil || f.Name != name || f.Revision != 2 {
			t.Fatalf("find after update = %+v, %v", f, err)
		}
		if _, err := db.FindFacility(ctx, "no-such-facility"); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("find of an unknown id: %v, want not found", err)
		}
	})
	t.Run("ErrUpdateToTakenCode", func(t *testing.T) {
		code := "lc-01"
		_, err := db.UpdateFacility(ctx, c.ID, 1, actor("admin-1"), checklist.FacilityChange{Code: &code}.Apply)
		if checklist.ErrorCode(err) != checklist.EConflict {
			t.Fatalf("err = %v", err)
		}
		if f, _ := db.FindFacility(ctx, c.ID); f.Code != "RS-01" || f.Revision != 1 {
			t.Fatalf("facility changed: %+v", f)
		}
	})
}
