package checklist

import (
	"slices"
	"time"
)

// ChecklistRecord is a checklist as kept: the Checklist with its draft's
// revision and who created and last changed it. Revision starts at 1 and
// grows by one with every change of the draft; a change names the revision
// it was based on and is refused when that is stale. Publishing does not
// change the draft and so leaves Revision alone.
type ChecklistRecord struct {
	Checklist
	Revision  int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Reserved checklist ids: the names of the API's collection-level paths
// (/v1/checklists/manifest, /v1/checklists/applicability).
var reservedChecklistIDs = []string{"manifest", "applicability"}

// ValidateChecklistID checks a checklist id chosen by the client: a key
// (see ValidKey) that is not one of the reserved path names.
func ValidateChecklistID(id string) error {
	var p Problems
	switch {
	case !ValidKey(id):
		p.Add("id", CodeBadKey, "id must be 1 to %d characters of a-z, 0-9, '_', '.', '-', beginning and ending with a letter or digit", MaxKeyLen)
	case slices.Contains(reservedChecklistIDs, id):
		p.Add("id", CodeBadValue, "id %q is reserved", id)
	}
	return p.Err("the checklist id is not valid")
}

// Applicability says which checklist applies to a facility: the one
// assigned to its kind, else the default. Revision is 0 before anything
// was set and grows by one with every change.
type Applicability struct {
	Default   string                  // checklist id; "" when none is set
	Kinds     map[FacilityKind]string // kind → checklist id
	Revision  int
	UpdatedAt time.Time
	UpdatedBy string
}

// ChecklistFor returns the id of the checklist that applies to facilities
// of kind, "" when none does.
func (a Applicability) ChecklistFor(kind FacilityKind) string {
	if id, ok := a.Kinds[kind]; ok && id != "" {
		return id
	}
	return a.Default
}

// ChecklistIDs returns the ids a names, each once, default first, then
// kinds in the order of FacilityKinds.
func (a Applicability) ChecklistIDs() []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(a.Default)
	for _, k := range FacilityKinds {
		add(a.Kinds[k])
	}
	return ids
}

// Validate checks a's shape: known kinds and non-empty ids. Whether the
// checklists exist and have a published version is for the store to check.
func (a Applicability) Validate() error {
	var p Problems
	for k, id := range a.Kinds {
		if !k.Valid() {
			p.Add("kinds."+string(k), CodeBadValue, "%q is not a facility kind", k)
		}
		if id == "" {
			p.Add("kinds."+string(k), CodeRequired, "a checklist id is required; leave the kind out to use the default")
		}
	}
	slices.SortFunc(p, func(x, y FieldError) int {
		switch {
		case x.Field < y.Field:
			return -1
		case x.Field > y.Field:
			return 1
		}
		return 0
	})
	return p.Err("the applicability is not valid")
}

// ApplicableVersion names the version of a checklist that a tablet should
// hold: the checklist's newest version that is not retired.
type ApplicableVersion struct {
	ChecklistID string
	Number      int
	ContentHash string
}
