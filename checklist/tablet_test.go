package checklist

import (
	"slices"
	"testing"
	"time"
)

func TestCurrentVersions(t *testing.T) {
	got := CurrentVersions([]Version{
		{ChecklistID: "a", Number: 1, ContentHash: "a1"},
		{ChecklistID: "a", Number: 3, ContentHash: "a3", Retired: true},
		{ChecklistID: "a", Number: 2, ContentHash: "a2"},
		{ChecklistID: "b", Number: 1, ContentHash: "b1", Retired: true},
	})
	if len(got) != 1 || got["a"] != (ApplicableVersion{ChecklistID: "a", Number: 2, ContentHash: "a2"}) {
		t.Fatalf("CurrentVersions = %+v", got)
	}
}

func TestTabletChecklists(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	hall := Facility{ID: "hall", Kind: KindPublicHall, UpdatedAt: at(0)}
	lab := Facility{ID: "lab", Kind: KindResearch, UpdatedAt: at(0)}
	tc := TabletChecklists{
		Applicability: Applicability{Default: "unified", Kinds: map[FacilityKind]string{KindResearch: "research"}, UpdatedAt: at(1)},
		Versions: []Version{
			{ChecklistID: "unified", Number: 1, ContentHash: "u1", UpdatedAt: at(2)},
			{ChecklistID: "unified", Number: 2, ContentHash: "u2", UpdatedAt: at(5), Retired: true},
			{ChecklistID: "research", Number: 1, ContentHash: "r1", UpdatedAt: at(4)},
			{ChecklistID: "unused", Number: 1, ContentHash: "x1", UpdatedAt: at(6)},
		},
		Facilities: []Facility{hall},
	}

	t.Run("ManifestInspector", func(t *testing.T) {
		m := tc.Manifest()
		if len(m.Facilities) != 1 || *m.Facilities["hall"] != (ApplicableVersion{ChecklistID: "unified", Number: 1, ContentHash: "u1"}) ||
			m.Default != nil || m.Kinds != nil {
			t.Fatalf("manifest %+v", m)
		}
	})
	t.Run("ManifestStaff", func(t *testing.T) {
		staff := tc
		staff.Staff, staff.Facilities = true, nil
		m := staff.Manifest()
		if m.Facilities != nil || m.Default.Number != 1 || m.Kinds[KindResearch].ChecklistID != "research" ||
			m.Kinds[KindPublicHall].ChecklistID != "unified" || len(m.Kinds) != len(FacilityKinds) {
			t.Fatalf("manifest %+v", m)
		}
	})
	t.Run("ManifestNothingApplies", func(t *testing.T) {
		none := tc
		none.Applicability = Applicability{}
		if m := none.Manifest(); len(m.Facilities) != 1 || m.Facilities["hall"] != nil {
			t.Fatalf("manifest %+v", m)
		}
	})

	numbers := func(ch ChecklistChanges) []string {
		var s []string
		for _, v := range ch.Versions {
			s = append(s, v.ContentHash)
		}
		return s
	}
	cases := []struct {
		name     string
		tc       func(TabletChecklists) TabletChecklists
		since    time.Time
		versions []string
		manifest bool
	}{
		{"FullSync", nil, time.Time{}, []string{"u1", "u2"}, true},
		{"OnlyWhatConcernsTheInspector", nil, at(3), []string{"u2"}, true},
		{"NothingSince", nil, at(6), nil, false},
		{"ApplicabilityChanged", func(x TabletChecklists) TabletChecklists {
			x.Applicability.UpdatedAt = at(7)
			return x
		}, at(6), nil, true},
		{"FacilityChanged", func(x TabletChecklists) TabletChecklists {
			x.Facilities = []Facility{{ID: "hall", Kind: KindResearch, UpdatedAt: at(7)}}
			return x
		}, at(6), nil, true},
		{"SecondFacilityBringsItsChecklist", func(x TabletChecklists) TabletChecklists {
			x.Facilities = []Facility{hall, lab}
			return x
		}, at(3), []string{"r1", "u2"}, true},
		{"StaffSeeEveryChecklist", func(x TabletChecklists) TabletChecklists {
			x.Staff, x.Facilities = true, nil
			return x
		}, at(3), []string{"r1", "u2", "x1"}, true},
		{"UnconcernedVersionLeavesTheManifest", nil, at(5), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := tc
			if c.tc != nil {
				x = c.tc(x)
			}
			ch := x.ChangedSince(c.since)
			if got := numbers(ch); !slices.Equal(got, c.versions) {
				t.Fatalf("versions %v, want %v", got, c.versions)
			}
			if ch.Versions == nil {
				t.Fatal("Versions is nil, want an empty list")
			}
			if ch.ManifestChanged != c.manifest {
				t.Fatalf("ManifestChanged = %v, want %v", ch.ManifestChanged, c.manifest)
			}
		})
	}
}
