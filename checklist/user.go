package checklist

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleAdmin     Role = "admin"     // manages users, facilities, checklists
	RoleReviewer  Role = "reviewer"  // bureau staff: reads everything, reviews, reports
	RoleInspector Role = "inspector" // facility staff: works on their own facilities only
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleReviewer, RoleInspector}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleReviewer || r == RoleInspector
}

// Limits on users.
const (
	UsernameMinLen    = 3
	UsernameMaxLen    = 64
	DisplayNameMaxLen = 100 // characters
	PasswordMinLen    = 12  // characters
	PasswordMaxBytes  = 1024
	MaxUserFacilities = 100
	idMaxLen          = 64
)

// User is a person who signs in to tenken. The password hash is not part
// of it: it never leaves the storage and authentication code.
type User struct {
	ID          string
	Username    string // unique, lower case; see NormalizeUsername
	DisplayName string
	Role        Role
	// FacilityIDs are the facilities an inspector works on: at least one
	// for an inspector, none for the other roles.
	FacilityIDs []string
	// Disabled users can neither log in nor refresh a session.
	Disabled bool
	// SessionsValidAfter is when the user's account last changed in a way
	// that ends their sessions (see EndsSessions): a credential issued
	// before it is refused (AcceptsCredential). Zero when it never did.
	SessionsValidAfter time.Time
	// Revision grows by one with every change; an update names the
	// revision it was based on and is refused when it is stale.
	Revision  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NormalizeUsername is the form a username is stored and looked up in:
// trimmed and lower case, so "Admin" and "admin" are the same account.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Normalize puts u in its stored form: the username normalized, the
// display name trimmed (the username when empty), and the facility ids
// trimmed, sorted and without duplicates.
func (u *User) Normalize() {
	u.Username = NormalizeUsername(u.Username)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	u.FacilityIDs = normalizeIDs(u.FacilityIDs)
}

// Validate checks u's fields and returns an EInvalid error listing every
// problem, or nil. It expects a normalized user. Whether the facility ids
// name existing facilities is for the storage to check.
func (u User) Validate() error {
	var p Problems
	u.validate(&p)
	return p.Err("the user is not valid")
}

func (u User) validate(p *Problems) {
	validateUsername(p, u.Username)
	if n := utf8.RuneCountInString(u.DisplayName); n > DisplayNameMaxLen {
		p.Add("display_name", "too_long", "display_name must be at most %d characters", DisplayNameMaxLen)
	} else if hasControl(u.DisplayName) {
		p.Add("display_name", "format", "display_name must not contain control characters")
	}
	switch {
	case u.Role == "":
		p.Add("role", "required", "role is required: one of %s", joinRoles())
	case !u.Role.Valid():
		p.Add("role", "enum", "role must be one of %s", joinRoles())
	case u.Role == RoleInspector && len(u.FacilityIDs) == 0:
		p.Add("facility_ids", "required", "an inspector must be bound to at least one facility")
	case u.Role != RoleInspector && len(u.FacilityIDs) > 0:
		p.Add("facility_ids", "not_allowed", "only inspectors are bound to facilities")
	}
	if len(u.FacilityIDs) > MaxUserFacilities {
		p.Add("facility_ids", "too_many", "at most %d facilities", MaxUserFacilities)
	}
	for i, id := range u.FacilityIDs {
		if id == "" || len(id) > idMaxLen {
			p.Add(fmt.Sprintf("facility_ids[%d]", i), "format", "a facility id must be 1 to %d characters", idMaxLen)
		}
	}
}

func validateUsername(p *Problems, name string) {
	switch {
	case name == "":
		p.Add("username", "required", "username is required")
		return
	case len(name) < UsernameMinLen || len(name) > UsernameMaxLen:
		p.Add("username", "length", "username must be %d to %d characters", UsernameMinLen, UsernameMaxLen)
		return
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '_' || r == '-')
		if !ok {
			p.Add("username", "format", "username may hold a-z, 0-9 and . _ - (not first)")
			return
		}
	}
}

// ValidatePassword records a problem with field when password breaks the
// password rules: at least PasswordMinLen characters, at most
// PasswordMaxBytes bytes, and not the username itself. Length is the rule
// that matters (NIST SP 800-63B); composition rules are not imposed.
func ValidatePassword(p *Problems, field, password, username string) {
	switch {
	case password == "":
		p.Add(field, "required", "%s is required", field)
	case utf8.RuneCountInString(password) < PasswordMinLen:
		p.Add(field, "too_short", "%s must be at least %d characters", field, PasswordMinLen)
	case len(password) > PasswordMaxBytes:
		p.Add(field, "too_long", "%s must be at most %d bytes", field, PasswordMaxBytes)
	case !utf8.ValidString(password):
		p.Add(field, "format", "%s must be valid UTF-8", field)
	case username != "" && strings.EqualFold(strings.TrimSpace(password), username):
		p.Add(field, "weak", "%s must not be the username", field)
	}
}

// ValidateNewUser checks a user about to be created together with their
// first password, listing every problem at once. u must be normalized.
func ValidateNewUser(u User, password string) error {
	var p Problems
	u.validate(&p)
	ValidatePassword(&p, "password", password, u.Username)
	return p.Err("the user is not valid")
}

// EndsSessions reports whether changing u into next must end every
// session of the user: being disabled or enabled, a new role, or other
// facilities. Whatever the user holds was issued for the old account.
func (u User) EndsSessions(next User) bool {
	return u.Disabled != next.Disabled || u.Role != next.Role || !slices.Equal(u.FacilityIDs, next.FacilityIDs)
}

// SessionsValidAfterChange is the SessionsValidAfter of a change made at
// now: the next whole second. Access tokens carry their issue time to the
// second (iat), so a token issued in the very second of the change, which
// may predate it, is refused with the others; credentials issued after the
// change take CredentialIssuedAt, never earlier than this.
func SessionsValidAfterChange(now time.Time) time.Time {
	return now.Truncate(time.Second).Add(time.Second)
}

// CredentialIssuedAt is the issue time to give a credential (access token,
// session) issued for u at now: now, or SessionsValidAfter when that is
// later, so a login in the second after a change is not refused.
func (u User) CredentialIssuedAt(now time.Time) time.Time {
	if now.Before(u.SessionsValidAfter) {
		return u.SessionsValidAfter
	}
	return now
}

// AcceptsCredential reports whether a credential of u issued at issuedAt
// still holds: the user is enabled and the credential was not issued
// before their last session-ending change.
func (u User) AcceptsCredential(issuedAt time.Time) bool {
	return !u.Disabled && !issuedAt.Before(u.SessionsValidAfter)
}

// UserChange is a partial update of a user by an admin: nil fields stay
// as they are.
type UserChange struct {
	DisplayName *string
	Role        *Role
	FacilityIDs *[]string
	Disabled    *bool
}

// Apply returns u with ch applied at now, normalized and validated. by is
// the id of the admin making the change. Nobody may change their own role,
// facilities or disabled state: not take the admin role away from
// themselves or disable themselves (an installation must not lock out its
// own administrator by accident), and not promote, re-scope or re-enable
// themselves with a token issued before someone else changed them. A role
// change away from inspector without new facility ids drops the facility
// bindings. A change that EndsSessions moves SessionsValidAfter.
func (ch UserChange) Apply(u User, by string, now time.Time) (User, error) {
	next := u
	if ch.DisplayName != nil {
		next.DisplayName = *ch.DisplayName
	}
	if ch.Role != nil {
		next.Role = *ch.Role
		if next.Role != RoleInspector && ch.FacilityIDs == nil {
			next.FacilityIDs = nil
		}
	}
	if ch.FacilityIDs != nil {
		next.FacilityIDs = slices.Clone(*ch.FacilityIDs)
	}
	if ch.Disabled != nil {
		next.Disabled = *ch.Disabled
	}
	next.Normalize()
	var p Problems
	next.validate(&p)
	if u.ID == by {
		if u.Role != next.Role {
			p.Add("role", "self", "you cannot change your own role")
		}
		if !slices.Equal(u.FacilityIDs, next.FacilityIDs) {
			p.Add("facility_ids", "self", "you cannot change your own facilities")
		}
		if u.Disabled != next.Disabled {
			p.Add("disabled", "self", "you cannot disable or enable yourself")
		}
	}
	if err := p.Err("the change is not valid"); err != nil {
		return u, err
	}
	if u.EndsSessions(next) {
		next.SessionsValidAfter = SessionsValidAfterChange(now)
	}
	return next, nil
}

// normalizeIDs trims ids and returns them sorted without duplicates; an
// empty id is kept once so that validation reports it.
func normalizeIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.TrimSpace(id)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// UserQuery selects users for a list, ordered by username.
type UserQuery struct {
	Role  Role   // "": every role
	After string // the username of the last user of the previous page
	Limit int    // page size; the caller bounds it
}

// UserPage is one page of a user list. Next is the key to pass as After
// for the following page, empty on the last page.
type UserPage struct {
	Items []User
	Next  string
}
