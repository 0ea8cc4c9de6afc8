package checklist

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleAdmin     Role = "admin"     // manages users, facilities, checklists
	RoleReviewer  Role = "reviewer"  // bureau staff: reads everything, reviews, reports
	RoleInspector Role = "inspector" // facility staff: works on their own facilities only
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleReviewer || r == RoleInspector
}
