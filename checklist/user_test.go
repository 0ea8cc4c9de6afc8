package checklist_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
)

// fields returns the fields an error names, joined.
func fields(err error) string {
	var e *checklist.Error
	if !errors.As(err, &e) {
		return ""
	}
	var s []string
	for _, f := range e.Fields {
		s = append(s, f.Field)
	}
	return strings.Join(s, " ")
}

func TestUserValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    checklist.User
		want string // fields named, "" for valid
	}{
		{"OK", checklist.User{Username: "Tanaka.H", Role: checklist.RoleReviewer}, ""},
		{"OKInspector", checklist.User{Username: "ins1", Role: checklist.RoleInspector, FacilityIDs: []string{"b", "a", "b"}}, ""},
		{"ErrNothing", checklist.User{}, "username role"},
		{"ErrShortUsername", checklist.User{Username: "ab", Role: checklist.RoleAdmin}, "username"},
		{"ErrUsernameSymbol", checklist.User{Username: "-abc", Role: checklist.RoleAdmin}, "username"},
		{"ErrUsernameNonASCII", checklist.User{Username: "たなか", Role: checklist.RoleAdmin}, "username"},
		{"ErrRole", checklist.User{Username: "abc", Role: "root"}, "role"},
		{"ErrInspectorNoFacility", checklist.User{Username: "abc", Role: checklist.RoleInspector}, "facility_ids"},
		{"ErrAdminWithFacility", checklist.User{Username: "abc", Role: checklist.RoleAdmin, FacilityIDs: []string{"f"}}, "facility_ids"},
		{"ErrEmptyFacilityID", checklist.User{Username: "abc", Role: checklist.RoleInspector, FacilityIDs: []string{" "}}, "facility_ids[0]"},
		{"ErrDisplayNameControl", checklist.User{Username: "abc", DisplayName: "a\x00b", Role: checklist.RoleAdmin}, "display_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.Normalize()
			if got := fields(tc.u.Validate()); got != tc.want {
				t.Fatalf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		password, username, want string
	}{
		{"twelve chars", "abc", ""},
		{"パスワードは十二文字以上です", "abc", ""},
		{"", "abc", "required"},
		{"elevenchars", "abc", "too_short"},
		{strings.Repeat("x", 1025), "abc", "too_long"},
		{"Administrator", "administrator", "weak"},
	} {
		var p checklist.Problems
		checklist.ValidatePassword(&p, "password", tc.password, tc.username)
		got := ""
		if len(p) > 0 {
			got = p[0].Code
		}
		if got != tc.want {
			t.Errorf("ValidatePassword(%q) = %q, want %q", tc.password, got, tc.want)
		}
	}
}

func TestUserChangeApply(t *testing.T) {
	admin := checklist.User{ID: "me", Username: "admin", DisplayName: "admin", Role: checklist.RoleAdmin, Revision: 3}
	reviewer, yes := checklist.RoleReviewer, true
	inspector := checklist.RoleInspector
	now := time.Date(2026, 4, 1, 9, 0, 0, 500_000_000, time.UTC)
	t.Run("ErrDemoteSelf", func(t *testing.T) {
		_, err := checklist.UserChange{Role: &reviewer}.Apply(admin, "me", now)
		if fields(err) != "role" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrDisableSelf", func(t *testing.T) {
		_, err := checklist.UserChange{Disabled: &yes}.Apply(admin, "me", now)
		if fields(err) != "disabled" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DemoteOther", func(t *testing.T) {
		u, err := checklist.UserChange{Role: &reviewer, Disabled: &yes}.Apply(admin, "someone else", now)
		if err != nil || u.Role != reviewer || !u.Disabled {
			t.Fatalf("u = %+v, %v", u, err)
		}
		// Tokens of the old account are refused, also one issued in the
		// second of the change; the first issued after it is accepted.
		if want := now.Truncate(time.Second).Add(time.Second); !u.SessionsValidAfter.Equal(want) {
			t.Fatalf("SessionsValidAfter = %v, want %v", u.SessionsValidAfter, want)
		}
		u.Disabled = false
		if u.AcceptsCredential(now.Truncate(time.Second)) || !u.AcceptsCredential(u.CredentialIssuedAt(now)) {
			t.Fatal("the valid-after rule does not hold")
		}
	})
	t.Run("ErrSelfPromoteRescopeEnable", func(t *testing.T) {
		demoted := checklist.User{ID: "me", Username: "demoted", Role: checklist.RoleReviewer, Disabled: true, Revision: 4}
		admin, no := checklist.RoleAdmin, false
		_, err := checklist.UserChange{Role: &admin, Disabled: &no}.Apply(demoted, "me", now)
		if fields(err) != "role disabled" {
			t.Fatalf("err = %v", err)
		}
		ins := checklist.User{ID: "me", Username: "ins", Role: inspector, FacilityIDs: []string{"f1"}}
		_, err = checklist.UserChange{FacilityIDs: &[]string{"f1", "f2"}}.Apply(ins, "me", now)
		if fields(err) != "facility_ids" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DisplayNameKeepsSessions", func(t *testing.T) {
		name := "New name"
		u, err := checklist.UserChange{DisplayName: &name}.Apply(admin, "me", now)
		if err != nil || !u.SessionsValidAfter.IsZero() {
			t.Fatalf("u = %+v, %v", u, err)
		}
	})
	t.Run("LeavingInspectorDropsFacilities", func(t *testing.T) {
		ins := checklist.User{ID: "i", Username: "ins", Role: inspector, FacilityIDs: []string{"f"}}
		u, err := checklist.UserChange{Role: &reviewer}.Apply(ins, "me", now)
		if err != nil || u.FacilityIDs != nil {
			t.Fatalf("u = %+v, %v", u, err)
		}
	})
	t.Run("ErrInspectorNeedsFacilities", func(t *testing.T) {
		_, err := checklist.UserChange{Role: &inspector}.Apply(admin, "other", now)
		if fields(err) != "facility_ids" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFacilityValidate(t *testing.T) {
	ok := func() checklist.Facility {
		return checklist.Facility{Code: "vt-01", Name: checklist.FacilityName{JA: "センター", EN: "Centre"}, Kind: checklist.KindResearch}
	}
	for _, tc := range []struct {
		name   string
		change func(*checklist.Facility)
		want   string
	}{
		{"OK", func(*checklist.Facility) {}, ""},
		{"ErrNoCode", func(f *checklist.Facility) { f.Code = " " }, "code"},
		{"ErrCodeChars", func(f *checklist.Facility) { f.Code = "VT/01" }, "code"},
		{"ErrCodeLong", func(f *checklist.Facility) { f.Code = strings.Repeat("A", 33) }, "code"},
		{"ErrNames", func(f *checklist.Facility) { f.Name = checklist.FacilityName{} }, "name.ja name.en"},
		{"ErrKind", func(f *checklist.Facility) { f.Kind = "zoo" }, "kind"},
		{"ErrAddressLong", func(f *checklist.Facility) { f.Address = strings.Repeat("住", 301) }, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ok()
			tc.change(&f)
			f.Normalize()
			if got := fields(f.Validate()); got != tc.want {
				t.Fatalf("fields = %q, want %q", got, tc.want)
			}
		})
	}
}
