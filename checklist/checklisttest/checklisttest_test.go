package checklisttest_test

import (
	"testing"

	"tenken/checklist/checklisttest"
)

// TestContentValid: the shared checklist passes the checklist's own
// rules, with and without the notes section, and each call is a copy.
func TestContentValid(t *testing.T) {
	for _, notes := range []int{0, 20} {
		c := checklisttest.Content(notes)
		if err := c.Validate(); err != nil {
			t.Fatalf("Content(%d): %v", notes, err)
		}
		if _, ok := c.Item("notes.n20"); ok != (notes == 20) {
			t.Fatalf("Content(%d): notes.n20 present = %v", notes, ok)
		}
	}
	a, b := checklisttest.Content(0), checklisttest.Content(0)
	a.Sections[0].Items[0].Key = "changed"
	if b.Sections[0].Items[0].Key != "signage.entrance" {
		t.Fatal("Content returned shared sections")
	}
}
