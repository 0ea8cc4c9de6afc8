package checklist

import (
	"cmp"
	"slices"
	"time"
)

// CurrentVersions returns, for each checklist among versions, its newest
// version that is not retired: the version a tablet should hold for it.
// Checklists whose versions are all retired are left out.
func CurrentVersions(versions []Version) map[string]ApplicableVersion {
	out := map[string]ApplicableVersion{}
	for _, v := range versions {
		if v.Retired {
			continue
		}
		if prev, ok := out[v.ChecklistID]; !ok || v.Number > prev.Number {
			out[v.ChecklistID] = ApplicableVersion{ChecklistID: v.ChecklistID, Number: v.Number, ContentHash: v.ContentHash}
		}
	}
	return out
}

// TabletChecklists is everything that decides which checklist versions a
// user's tablet needs: which checklist applies to which facilities, the
// published versions (their content is not needed), and, for an
// inspector, their facilities. The manifest and the sync feed both
// compute from it, so they always agree.
type TabletChecklists struct {
	Applicability Applicability
	// Versions are every published version of every checklist, retired
	// ones included, with their UpdatedAt.
	Versions []Version
	// Staff is true for admins and reviewers, who are concerned with every
	// facility kind and every checklist; Facilities is then unused.
	Staff bool
	// Facilities are the inspector's facilities (ids bound to the user but
	// no longer stored are simply absent).
	Facilities []Facility
}

// Manifest names the version a tablet should hold; nil where no
// published, unretired version applies.
type Manifest struct {
	// Facilities (inspectors): each of their facilities → its version.
	Facilities map[string]*ApplicableVersion
	// Default and Kinds (staff): the default checklist's version, and each
	// facility kind → its version.
	Default *ApplicableVersion
	Kinds   map[FacilityKind]*ApplicableVersion
}

// Manifest returns what t's tablet should hold: for an inspector, the
// version for each facility (its kind's checklist, else the default); for
// staff, the default's version and each kind's.
func (t TabletChecklists) Manifest() Manifest {
	current := CurrentVersions(t.Versions)
	entry := func(id string) *ApplicableVersion {
		if v, ok := current[id]; ok {
			return &v
		}
		return nil
	}
	var m Manifest
	if !t.Staff {
		m.Facilities = map[string]*ApplicableVersion{}
		for _, f := range t.Facilities {
			m.Facilities[f.ID] = entry(t.Applicability.ChecklistFor(f.Kind))
		}
		return m
	}
	m.Default = entry(t.Applicability.Default)
	m.Kinds = map[FacilityKind]*ApplicableVersion{}
	for _, k := range FacilityKinds {
		m.Kinds[k] = entry(t.Applicability.ChecklistFor(k))
	}
	return m
}

// concerns reports whether checklist id is of interest to t's user: for
// staff every checklist, for an inspector the checklists that apply to
// one of their facilities now.
func (t TabletChecklists) concerns(id string) bool {
	if t.Staff {
		return true
	}
	for _, f := range t.Facilities {
		if t.Applicability.ChecklistFor(f.Kind) == id {
			return true
		}
	}
	return false
}

// ChecklistChanges is what changed about checklists for a tablet since a
// sync cursor.
type ChecklistChanges struct {
	// Versions were published or retired after the cursor, of the
	// checklists that concern the user; oldest change first.
	Versions []Version
	// ManifestChanged says that the manifest may differ from the one the
	// tablet had at the cursor: the applicability changed, a version of a
	// concerning checklist was published or retired, or one of the
	// inspector's facilities changed (its kind may decide its checklist).
	// Always true for a full sync (no cursor).
	ManifestChanged bool
}

// ChangedSince returns the checklist changes after since (the zero time:
// everything). Each version counts by its UpdatedAt, the time of its last
// write (publication or retirement).
func (t TabletChecklists) ChangedSince(since time.Time) ChecklistChanges {
	ch := ChecklistChanges{Versions: []Version{}, ManifestChanged: since.IsZero() || t.Applicability.UpdatedAt.After(since)}
	for _, v := range t.Versions {
		if v.UpdatedAt.After(since) && t.concerns(v.ChecklistID) {
			ch.Versions = append(ch.Versions, v)
		}
	}
	slices.SortFunc(ch.Versions, func(a, b Version) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ChecklistID, b.ChecklistID), cmp.Compare(a.Number, b.Number))
	})
	if len(ch.Versions) > 0 {
		ch.ManifestChanged = true
	}
	if !t.Staff {
		for _, f := range t.Facilities {
			if f.UpdatedAt.After(since) {
				ch.ManifestChanged = true
			}
		}
	}
	return ch
}
