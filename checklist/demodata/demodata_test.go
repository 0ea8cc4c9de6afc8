package demodata_test

import (
	"testing"

	"tenken/checklist"
	"tenken/checklist/checklistfile"
	"tenken/checklist/demodata"
)

func TestGeneratesValidInspectionsOfTheDefaultChecklist(t *testing.T) {
	c := checklistfile.Default()
	g := demodata.New(demodata.Options{ChecklistID: "default", Version: 1, Content: &c,
		Facilities: []string{"f1", "f2", "f3"}, FirstYear: 2024, Years: 3, PerYear: 2, Seed: 7, Messy: true})
	ins, err := g.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) < 10 {
		t.Fatalf("%d inspections", len(ins))
	}
	statuses := map[checklist.Status]int{}
	failed := 0
	for _, in := range ins {
		statuses[in.Status]++
		failed += in.Totals.Failed
		if in.Status == checklist.StatusSubmitted || in.Status == checklist.StatusApproved {
			if err := in.CheckComplete(&c); err != nil {
				t.Fatalf("inspection %s is not complete: %v", in.ID, err)
			}
		}
	}
	if statuses[checklist.StatusApproved] == 0 || statuses[checklist.StatusDraft] == 0 || failed == 0 {
		t.Fatalf("statuses %v, failed answers %d: not varied enough", statuses, failed)
	}
}
