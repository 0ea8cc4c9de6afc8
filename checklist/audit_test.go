package checklist

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestUserAuditEntry(t *testing.T) {
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	admin := Actor{UserID: "a1", Name: "admin", Role: RoleAdmin}
	before := User{ID: "u1", Username: "kato", DisplayName: "kato", Role: RoleInspector, FacilityIDs: []string{"f1"}, Revision: 3}
	cases := []struct {
		name   string
		change func(u *User)
		action string
		want   string
	}{
		{"Update", func(u *User) { u.DisplayName = "加藤" }, AuditUpdate, `display_name: "kato" → "加藤"`},
		{"RoleChange", func(u *User) { u.Role, u.FacilityIDs = RoleReviewer, nil }, AuditRoleChange, "role: inspector → reviewer; facility_ids: −f1"},
		{"DeactivateWins", func(u *User) { u.Role, u.FacilityIDs, u.Disabled = RoleReviewer, nil, true }, AuditDeactivate, "disabled: false → true"},
		{"Nothing", func(u *User) {}, AuditUpdate, "no field changed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after := before
			after.FacilityIDs = append([]string{}, before.FacilityIDs...)
			tc.change(&after)
			after.Revision, after.UpdatedAt = 4, at
			e := UserAuditEntry(&before, after, admin)
			if e.ID != "user:u1:4" || e.Action != tc.action || !strings.Contains(e.Summary, tc.want) ||
				e.ActorID != "a1" || e.ActorName != "admin" || e.Role != RoleAdmin || !e.At.Equal(at) {
				t.Fatalf("entry %+v", e)
			}
		})
	}
	pw := PasswordAuditEntry(User{ID: "u1", Revision: 5, UpdatedAt: at}, admin)
	if pw.ID != "user:u1:5" || pw.Action != AuditPasswordChange {
		t.Fatalf("password entry %+v", pw)
	}
}

func TestAuditSummaryBounded(t *testing.T) {
	long := strings.Repeat("長", 400)
	e := FacilityAuditEntry(&Facility{ID: "f", Address: ""}, Facility{ID: "f", Address: long, Department: long, Revision: 2}, Actor{UserID: "a"})
	if len(e.Summary) > maxAuditSummary || !utf8.ValidString(e.Summary) || e.FacilityID != "f" {
		t.Fatalf("summary of %d bytes, valid %v", len(e.Summary), utf8.ValidString(e.Summary))
	}
}

func TestVersionAuditKeys(t *testing.T) {
	v := Version{ChecklistID: "default", Number: 3, PublishedAt: time.Now(), RetiredAt: time.Now()}
	if p, r := PublishAuditEntry(v, SystemActor), RetireAuditEntry(v, SystemActor); p.ID != "checklist:default:v3:publish" ||
		r.ID != "checklist:default:v3:retire" || p.EntityID != "default" || p.ActorID != "system" {
		t.Fatalf("publish %+v, retire %+v", p, r)
	}
}
