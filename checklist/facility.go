package checklist

import (
	"strings"
	"time"
	"unicode/utf8"
)

// FacilityKind is what a citizen-use facility does.
type FacilityKind string

// Facility kinds.
const (
	KindVocationalTraining FacilityKind = "vocational_training" // 職業能力開発センター
	KindLabourConsultation FacilityKind = "labour_consultation" // 労働相談情報センター
	KindBusinessSupport    FacilityKind = "business_support"    // 中小企業振興公社の施設
	KindResearch           FacilityKind = "research"            // 産業技術研究センター
	KindPublicHall         FacilityKind = "public_hall"         // 会館・ホール
	KindOtherFacility      FacilityKind = "other"
)

// FacilityKinds lists every kind.
var FacilityKinds = []FacilityKind{
	KindVocationalTraining, KindLabourConsultation, KindBusinessSupport,
	KindResearch, KindPublicHall, KindOtherFacility,
}

// Valid reports whether k is a known kind.
func (k FacilityKind) Valid() bool {
	for _, v := range FacilityKinds {
		if k == v {
			return true
		}
	}
	return false
}

// Limits on facilities.
const (
	FacilityCodeMaxLen     = 32
	FacilityNameMaxLen     = 200 // characters, each language
	FacilityDeptMaxLen     = 200
	FacilityAddressMaxLen  = 300
	facilityCodeMinLen     = 2
	facilityQueryMaxLength = 100
)

// FacilityName is a facility's name in Japanese and English.
type FacilityName struct {
	JA string `json:"ja"`
	EN string `json:"en"`
}

// Facility is a citizen-use facility that is inspected. Facilities are
// deactivated, never deleted: inspections and reports keep referring to
// them.
type Facility struct {
	ID         string
	Code       string // unique, upper case, e.g. "VT-TAMA"; see NormalizeFacilityCode
	Name       FacilityName
	Kind       FacilityKind
	Department string // the bureau department in charge
	Address    string
	Active     bool
	// Revision grows by one with every change; an update names the
	// revision it was based on and is refused when it is stale.
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NormalizeFacilityCode is the form a code is stored and compared in:
// trimmed and upper case, so "vt-01" and "VT-01" cannot both exist.
func NormalizeFacilityCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// Normalize trims f's text fields and normalizes its code.
func (f *Facility) Normalize() {
	f.Code = NormalizeFacilityCode(f.Code)
	f.Name.JA = strings.TrimSpace(f.Name.JA)
	f.Name.EN = strings.TrimSpace(f.Name.EN)
	f.Department = strings.TrimSpace(f.Department)
	f.Address = strings.TrimSpace(f.Address)
}

// Validate checks a normalized facility and returns an EInvalid error
// listing every problem, or nil.
func (f Facility) Validate() error {
	var p Problems
	switch {
	case f.Code == "":
		p.Add("code", "required", "code is required")
	case len(f.Code) < facilityCodeMinLen || len(f.Code) > FacilityCodeMaxLen:
		p.Add("code", "length", "code must be %d to %d characters", facilityCodeMinLen, FacilityCodeMaxLen)
	case !validCode(f.Code):
		p.Add("code", "format", "code may hold A-Z, 0-9, - and _ and must start with a letter or digit")
	}
	text := func(field, value string, required bool, max int) {
		switch {
		case value == "" && required:
			p.Add(field, "required", "%s is required", field)
		case utf8.RuneCountInString(value) > max:
			p.Add(field, "too_long", "%s must be at most %d characters", field, max)
		case hasControl(value):
			p.Add(field, "format", "%s must not contain control characters", field)
		}
	}
	text("name.ja", f.Name.JA, true, FacilityNameMaxLen)
	text("name.en", f.Name.EN, true, FacilityNameMaxLen)
	text("department", f.Department, false, FacilityDeptMaxLen)
	text("address", f.Address, false, FacilityAddressMaxLen)
	switch {
	case f.Kind == "":
		p.Add("kind", "required", "kind is required: one of %s", joinKinds())
	case !f.Kind.Valid():
		p.Add("kind", "enum", "kind must be one of %s", joinKinds())
	}
	return p.Err("the facility is not valid")
}

func validCode(code string) bool {
	for i, r := range code {
		ok := r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_')
		if !ok {
			return false
		}
	}
	return true
}

// FacilityChange is a partial update of a facility: nil fields stay as
// they are. Setting Active to false deactivates the facility.
type FacilityChange struct {
	Code       *string
	Name       *FacilityName
	Kind       *FacilityKind
	Department *string
	Address    *string
	Active     *bool
}

// Apply returns f with ch applied, normalized and validated.
func (ch FacilityChange) Apply(f Facility) (Facility, error) {
	next := f
	if ch.Code != nil {
		next.Code = *ch.Code
	}
	if ch.Name != nil {
		next.Name = *ch.Name
	}
	if ch.Kind != nil {
		next.Kind = *ch.Kind
	}
	if ch.Department != nil {
		next.Department = *ch.Department
	}
	if ch.Address != nil {
		next.Address = *ch.Address
	}
	if ch.Active != nil {
		next.Active = *ch.Active
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return f, err
	}
	return next, nil
}

// FacilityQuery selects facilities for a list.
type FacilityQuery struct {
	// Within, when not nil, restricts the list to these facility ids: an
	// inspector's list is their own facilities. An empty non-nil slice
	// selects nothing.
	Within []string
	Active *bool        // nil: active and inactive
	Kind   FacilityKind // "": every kind
	Text   string       // case-insensitive substring of code, names or department
	After  string       // the code of the last facility of the previous page
	Limit  int          // page size; the caller bounds it
}

// FacilityPage is one page of a facility list. Next is the key to pass as
// After for the following page, empty on the last page.
type FacilityPage struct {
	Items []Facility
	Next  string
}

// ValidateFacilityQuery checks the parts of q that come from the client's
// query string; a problem is a bad request naming the parameter.
func ValidateFacilityQuery(q FacilityQuery) error {
	var p Problems
	if q.Kind != "" && !q.Kind.Valid() {
		p.Add("kind", "enum", "kind must be one of %s", joinKinds())
	}
	if utf8.RuneCountInString(q.Text) > facilityQueryMaxLength {
		p.Add("q", "too_long", "q must be at most %d characters", facilityQueryMaxLength)
	}
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EBadRequest, Message: "the query is not valid", Fields: p}
}

func joinKinds() string {
	s := make([]string, len(FacilityKinds))
	for i, k := range FacilityKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
