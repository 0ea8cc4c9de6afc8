package checklist

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEntry is one line of the append-only audit trail: who changed
// what, when. ID is chosen by the writer so that a retried or repeated
// write of the same change cannot add a second line: for an inspection,
// user, facility, checklist draft, applicability or action it is
// "<entity>:<id>:<revision>", as exactly one write produces each
// revision; for a checklist version's publish or retirement, which each
// happen once, "checklist:<id>:v<n>:publish" or ":retire".
type AuditEntry struct {
	ID         string
	At         time.Time
	ActorID    string
	ActorName  string
	Role       Role
	Entity     string // "inspection", "user", "facility", ...
	EntityID   string
	FacilityID string
	Action     string
	Revision   int64
	Items      []string // item keys touched, for inspections and checklist drafts
	From       Status   // status before and after: an inspection's, or an action's
	To         Status
	Reason     string
	RequestKey string // the client's idempotency key, when it sent one
	// Summary says in a line what the write changed (field: old → new),
	// never a secret: entries hold no password, hash or token.
	Summary string
}

// Audit entity names.
const EntityInspection = "inspection"

// InspectionAuditEntry describes change ch, which produced the current
// revision of in, for the audit trail.
func InspectionAuditEntry(in *Inspection, ch InspectionChange, by Actor, requestKey string) AuditEntry {
	return AuditEntry{
		ID:         auditKey(EntityInspection, in.ID, in.Revision),
		At:         in.Updated.At,
		ActorID:    by.UserID,
		ActorName:  by.Name,
		Role:       by.Role,
		Entity:     EntityInspection,
		EntityID:   in.ID,
		FacilityID: in.FacilityID,
		Action:     ch.Action,
		Revision:   in.Revision,
		Items:      ch.Items,
		From:       ch.From,
		To:         ch.To,
		Reason:     ch.Reason,
		RequestKey: requestKey,
	}
}

// Audit entity names of the other audited writes. A checklist's draft,
// its published versions and their retirement are all entries of entity
// "checklist" with the checklist id, so one filter shows its whole story.
const (
	EntityUser          = "user"
	EntityFacility      = "facility"
	EntityChecklist     = "checklist"
	EntityApplicability = "checklist_applicability"
	EntityAction        = "action"
)

// Audit actions besides the inspection ones (ActionCreate and friends in
// inspection.go, which the other entities share where they mean the same).
const (
	AuditUpdate         = "update"
	AuditRoleChange     = "role_change"
	AuditPasswordChange = "password_change"
	AuditDeactivate     = "deactivate"
	AuditReactivate     = "reactivate"
	AuditDraftUpdate    = "draft_update"
	AuditPublish        = "publish"
	AuditRetire         = "retire"
	AuditStatusChange   = "status_change"
	AuditProgress       = "progress_report"
	AuditGoodPractice   = "good_practice"
	AuditVerify         = "verify"
	AuditFlag           = "flag"
)

// AuditEntities lists the entities the audit trail knows, for its
// filter.
var AuditEntities = []string{EntityInspection, EntityUser, EntityFacility, EntityChecklist, EntityApplicability, EntityAction, EntityRound, EntityAssignment}

// SystemActor is who the audit trail names for writes no user made: the
// first start's default checklist, an inspection verifying an action.
var SystemActor = Actor{UserID: "system", Name: "system"}

// maxAuditSummary bounds an entry's summary, in bytes; what is cut ends
// in "…".
const maxAuditSummary = 500

// auditKey is an entry's id for write number revision of an entity:
// exactly one write produces each revision, so a retried or repeated copy
// of the entry has the same id and is stored once.
func auditKey(entity, id string, revision int64) string {
	return fmt.Sprintf("%s:%s:%d", entity, id, revision)
}

func entry(entity, id string, revision int64, at time.Time, by Actor, action string, changes []string) AuditEntry {
	return AuditEntry{ID: auditKey(entity, id, revision), At: at, ActorID: by.UserID, ActorName: by.Name, Role: by.Role,
		Entity: entity, EntityID: id, Action: action, Revision: revision, Summary: summarize(changes)}
}

// summarize joins changes into a short line; none is "no field changed".
func summarize(changes []string) string {
	if len(changes) == 0 {
		return "no field changed"
	}
	s := strings.Join(changes, "; ")
	if len(s) <= maxAuditSummary {
		return s
	}
	cut := maxAuditSummary - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// fieldChange describes a field that went from a to b, or nothing when
// it did not change.
func fieldChange[T comparable](changes []string, field string, a, b T) []string {
	if a == b {
		return changes
	}
	return append(changes, fmt.Sprintf("%s: %s → %s", field, quoteAudit(a), quoteAudit(b)))
}

func quoteAudit(v any) string {
	if s, ok := v.(string); ok {
		return strconvQuote(s)
	}
	return fmt.Sprint(v)
}

// strconvQuote quotes s, shortened to a readable length.
func strconvQuote(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:59]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// idsChange describes a set of ids that changed, as the ids added and
// removed.
func idsChange(changes []string, field string, a, b []string) []string {
	var added, removed []string
	for _, id := range b {
		if !slices.Contains(a, id) {
			added = append(added, "+"+id)
		}
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			removed = append(removed, "−"+id)
		}
	}
	if len(added)+len(removed) == 0 {
		return changes
	}
	return append(changes, field+": "+strings.Join(append(added, removed...), " "))
}

// UserAuditEntry describes the write that made user after out of before
// (nil for a new user) for the audit trail, keyed by the user's id and
// revision. The action names the weightiest change: deactivation or
// reactivation, else a role change, else an update; the summary lists
// every changed field. A user holds no secret (the password hash is not
// part of User), so nothing secret can reach the entry.
func UserAuditEntry(before *User, after User, by Actor) AuditEntry {
	if before == nil {
		changes := []string{"username: " + strconvQuote(after.Username), "role: " + string(after.Role)}
		changes = idsChange(changes, "facility_ids", nil, after.FacilityIDs)
		if after.Disabled {
			changes = append(changes, "disabled")
		}
		return entry(EntityUser, after.ID, int64(after.Revision), after.UpdatedAt, by, ActionCreate, changes)
	}
	var changes []string
	changes = fieldChange(changes, "username", before.Username, after.Username)
	changes = fieldChange(changes, "display_name", before.DisplayName, after.DisplayName)
	changes = fieldChange(changes, "role", before.Role, after.Role)
	changes = idsChange(changes, "facility_ids", before.FacilityIDs, after.FacilityIDs)
	changes = fieldChange(changes, "disabled", before.Disabled, after.Disabled)
	action := AuditUpdate
	switch {
	case after.Disabled && !before.Disabled:
		action = AuditDeactivate
	case !after.Disabled && before.Disabled:
		action = AuditReactivate
	case after.Role != before.Role:
		action = AuditRoleChange
	}
	return entry(EntityUser, after.ID, int64(after.Revision), after.UpdatedAt, by, action, changes)
}

// PasswordAuditEntry describes a password change of user u (u as stored
// with the new password, at its new revision). It says that the password
// changed and the sessions ended, never anything about the password.
func PasswordAuditEntry(u User, by Actor) AuditEntry {
	what := "password set by an admin; the user's sessions were ended"
	if by.UserID == u.ID {
		what = "password changed by the user; their sessions were ended"
	}
	return entry(EntityUser, u.ID, int64(u.Revision), u.UpdatedAt, by, AuditPasswordChange, []string{what})
}

// FacilityAuditEntry describes the write that made facility after out of
// before (nil for a new facility), keyed by its id and revision.
func FacilityAuditEntry(before *Facility, after Facility, by Actor) AuditEntry {
	var e AuditEntry
	if before == nil {
		changes := []string{"code: " + strconvQuote(after.Code), "name: " + strconvQuote(after.Name.JA), "kind: " + string(after.Kind)}
		if !after.Active {
			changes = append(changes, "inactive")
		}
		e = entry(EntityFacility, after.ID, int64(after.Revision), after.UpdatedAt, by, ActionCreate, changes)
	} else {
		var changes []string
		changes = fieldChange(changes, "code", before.Code, after.Code)
		changes = fieldChange(changes, "name.ja", before.Name.JA, after.Name.JA)
		changes = fieldChange(changes, "name.en", before.Name.EN, after.Name.EN)
		changes = fieldChange(changes, "kind", before.Kind, after.Kind)
		changes = fieldChange(changes, "department", before.Department, after.Department)
		changes = fieldChange(changes, "address", before.Address, after.Address)
		changes = fieldChange(changes, "active", before.Active, after.Active)
		action := AuditUpdate
		switch {
		case before.Active && !after.Active:
			action = AuditDeactivate
		case !before.Active && after.Active:
			action = AuditReactivate
		}
		e = entry(EntityFacility, after.ID, int64(after.Revision), after.UpdatedAt, by, action, changes)
	}
	e.FacilityID = after.ID
	return e
}

// DraftAuditEntry describes the write that made checklist after (its
// draft at its new revision) out of before (nil for a new checklist),
// keyed by the checklist id and draft revision. Items lists the item keys
// the write added, removed or changed.
func DraftAuditEntry(before *ChecklistRecord, after ChecklistRecord, by Actor) AuditEntry {
	var prev Content
	action := AuditDraftUpdate
	if before == nil {
		action = ActionCreate
	} else {
		prev = before.Draft
	}
	d := Diff(prev, after.Draft)
	changes := d.summary()
	if before == nil {
		changes = append([]string{"title: " + strconvQuote(after.Draft.Title.Ja)}, changes...)
	}
	e := entry(EntityChecklist, after.ID, int64(after.Revision), after.UpdatedAt, by, action, changes)
	e.Items = d.ItemKeys()
	return e
}

// summary counts what d changed, for the audit trail.
func (d VersionDiff) summary() []string {
	var out []string
	if len(d.Properties) > 0 {
		out = append(out, "changed "+strings.Join(d.Properties, ", "))
	}
	count := func(what string, k KeyDiff) {
		if n := len(k.Added) + len(k.Removed) + len(k.Changed); n > 0 || k.Reordered {
			s := fmt.Sprintf("%s: %d added, %d removed, %d changed", what, len(k.Added), len(k.Removed), len(k.Changed))
			if k.Reordered {
				s += ", reordered"
			}
			out = append(out, s)
		}
	}
	count("sections", d.Sections)
	count("items", d.Items)
	if len(out) == 0 {
		out = append(out, "no change to the content")
	}
	return out
}

// ItemKeys lists the item keys d added, removed or changed, without
// duplicates, in that order.
func (d VersionDiff) ItemKeys() []string {
	keys := append(append([]string{}, d.Items.Added...), d.Items.Removed...)
	for _, c := range d.Items.Changed {
		keys = append(keys, c.Key)
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// versionAuditKey is the id of the entry of a version event (publish,
// retire): each happens once to a version, whose number is unique.
func versionAuditKey(v Version, action string) string {
	return fmt.Sprintf("%s:%s:v%d:%s", EntityChecklist, v.ChecklistID, v.Number, action)
}

// PublishAuditEntry describes publishing version v.
func PublishAuditEntry(v Version, by Actor) AuditEntry {
	e := entry(EntityChecklist, v.ChecklistID, 0, v.PublishedAt, by, AuditPublish,
		[]string{fmt.Sprintf("version %d published: %d items, content hash %s", v.Number, len(v.Content.Items()), v.ContentHash)})
	e.ID = versionAuditKey(v, AuditPublish)
	return e
}

// RetireAuditEntry describes retiring version v (v as retired).
func RetireAuditEntry(v Version, by Actor) AuditEntry {
	e := entry(EntityChecklist, v.ChecklistID, 0, v.RetiredAt, by, AuditRetire,
		[]string{fmt.Sprintf("version %d retired: no longer offered for new inspections", v.Number)})
	e.ID = versionAuditKey(v, AuditRetire)
	return e
}

// ApplicabilityID is the entity id of the one applicability record.
const ApplicabilityID = "current"

// ApplicabilityAuditEntry describes the write that made after (at its new
// revision) out of before (revision 0 when nothing was set).
func ApplicabilityAuditEntry(before, after Applicability, by Actor) AuditEntry {
	var changes []string
	changes = fieldChange(changes, "default", before.Default, after.Default)
	for _, k := range FacilityKinds {
		changes = fieldChange(changes, "kinds."+string(k), before.Kinds[k], after.Kinds[k])
	}
	if len(changes) == 0 {
		changes = append(changes, "no assignment changed")
	}
	action := AuditUpdate
	if before.Revision == 0 {
		action = ActionCreate
	}
	return entry(EntityApplicability, ApplicabilityID, int64(after.Revision), after.UpdatedAt, by, action, changes)
}

// ActionAuditEntry describes the write that made improvement action after
// out of before (nil for a new action), keyed by its id and revision. The
// action names what the write did, read from the difference: a status
// change (From and To hold the statuses), a progress report, a good
// practice mark, verification or flagging by a later inspection, or
// another update.
func ActionAuditEntry(before *Action, after Action, by Actor) AuditEntry {
	if before == nil {
		changes := []string{"title: " + strconvQuote(after.Title), "item: " + after.ItemKey,
			fmt.Sprintf("target fiscal year: %d", after.TargetFiscalYear)}
		if after.SourceInspectionID != "" {
			changes = append(changes, "from inspection "+after.SourceInspectionID)
		}
		e := entry(EntityAction, after.ID, after.Revision, after.UpdatedAt, by, ActionCreate, changes)
		e.FacilityID, e.To = after.FacilityID, Status(after.Status)
		return e
	}
	var changes []string
	changes = fieldChange(changes, "title", before.Title, after.Title)
	changes = fieldChange(changes, "owner", before.Owner, after.Owner)
	changes = fieldChange(changes, "target_fiscal_year", before.TargetFiscalYear, after.TargetFiscalYear)
	changes = fieldChange(changes, "due_date", dateText(before.Due), dateText(after.Due))
	changes = fieldChange(changes, "status", before.Status, after.Status)
	action := AuditUpdate
	report := func(kind string, a, b *ProgressReport) {
		if b != nil && (a == nil || *a != *b) {
			changes = append(changes, fmt.Sprintf("%s report of %s", kind, b.Date))
			action = AuditProgress
		}
	}
	report(ProgressInterim, before.Interim, after.Interim)
	report(ProgressFinal, before.Final, after.Final)
	switch {
	case action == AuditProgress:
	case after.Flagged && after.FlaggedInspectionID != before.FlaggedInspectionID:
		action = AuditFlag
		changes = append(changes, "failed again in inspection "+after.FlaggedInspectionID)
	case after.VerifiedInspectionID != "" && after.VerifiedInspectionID != before.VerifiedInspectionID:
		action = AuditVerify
		changes = append(changes, "passed in inspection "+after.VerifiedInspectionID)
	case after.Status != before.Status:
		action = AuditStatusChange
	case after.GoodPractice != before.GoodPractice || after.GoodPracticeNote != before.GoodPracticeNote:
		action = AuditGoodPractice
		if after.GoodPractice {
			changes = append(changes, "marked as a good practice")
		} else {
			changes = append(changes, "no longer a good practice")
		}
	}
	e := entry(EntityAction, after.ID, after.Revision, after.UpdatedAt, by, action, changes)
	e.FacilityID = after.FacilityID
	if after.Status != before.Status {
		e.From, e.To = Status(before.Status), Status(after.Status)
	}
	return e
}

func dateText(d Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
