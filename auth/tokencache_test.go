package auth

import (
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"tenken/checklist"
)

// TestVerifiedTokensBounded: a full cache drops the token used least
// lately, not every token (the tablets in use keep their entries).
func TestVerifiedTokensBounded(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	tk, err := NewTokens(TokenConfig{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if tk.verified, err = lru.New[string, verifiedToken](2); err != nil {
		t.Fatal(err)
	}
	token := func(jti string) string {
		s, _, err := tk.IssueAt(checklist.User{ID: "u-" + jti, Role: checklist.RoleInspector}, now, jti)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Verify(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := token("a"), token("b")
	if _, err := tk.Verify(a); err != nil { // a is now the most recent
		t.Fatal(err)
	}
	c := token("c")
	for _, tc := range []struct {
		name, token string
		kept        bool
	}{{"a", a, true}, {"b", b, false}, {"c", c, true}} {
		if got := tk.verified.Contains(tc.token); got != tc.kept {
			t.Errorf("token %s kept = %v, want %v", tc.name, got, tc.kept)
		}
	}
}
