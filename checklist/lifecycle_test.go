package checklist_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tenken/checklist"
)

var (
	t0        = time.Date(2026, 5, 12, 1, 0, 0, 0, time.UTC)
	inspector = checklist.Actor{UserID: "u-insp", Name: "inspector1", Role: checklist.RoleInspector}
	reviewer  = checklist.Actor{UserID: "u-rev", Name: "reviewer", Role: checklist.RoleReviewer}
	admin     = checklist.Actor{UserID: "u-admin", Name: "admin", Role: checklist.RoleAdmin}
)

const testID = "0f8fad5b-d9cb-469f-a165-70867728950e"

// inStatus returns an inspection brought to status through the lifecycle.
func inStatus(t *testing.T, c *checklist.Content, status checklist.Status) *checklist.Inspection {
	t.Helper()
	in, err := checklist.NewInspection(testID, "fac-1", "cl-1", 1, checklist.Date{Year: 2026, Month: 5, Day: 12}, inspector, t0)
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ checklist.InspectionChange, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("bringing the inspection to %s: %v", status, err)
		}
	}
	switch status {
	case checklist.StatusDraft:
	case checklist.StatusDiscarded:
		must(in.Discard("", inspector, t0))
	case checklist.StatusSubmitted:
		must(in.Submit(c, inspector, t0))
	case checklist.StatusReturned:
		must(in.Submit(c, inspector, t0))
		must(in.Return(c, "signage photos missing", nil, reviewer, t0))
	case checklist.StatusApproved:
		must(in.Submit(c, inspector, t0))
		must(in.Approve(reviewer, t0))
	default:
		t.Fatalf("unknown status %s", status)
	}
	return in
}

func TestLifecycle(t *testing.T) {
	c := &checklist.Content{}
	type act func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error)
	actions := map[string]act{
		"submit": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Submit(c, by, t0)
		},
		"resubmit": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Resubmit(c, by, t0)
		},
		"return": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Return(c, "please add photos", nil, by, t0)
		},
		"approve": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Approve(by, t0)
		},
		"reopen": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Reopen("rack count was wrong", by, t0)
		},
		"discard": func(in *checklist.Inspection, by checklist.Actor) (checklist.InspectionChange, error) {
			return in.Discard("", by, t0)
		},
	}
	const ok = ""
	tests := []struct {
		from   checklist.Status
		action string
		by     checklist.Actor
		want   checklist.Code   // error code, or ok
		to     checklist.Status // when ok
	}{
		{checklist.StatusDraft, "submit", inspector, ok, checklist.StatusSubmitted},
		{checklist.StatusDraft, "submit", admin, ok, checklist.StatusSubmitted},
		{checklist.StatusDraft, "submit", reviewer, checklist.EForbidden, ""},
		{checklist.StatusDraft, "approve", reviewer, checklist.EConflict, ""},
		{checklist.StatusDraft, "return", reviewer, checklist.EConflict, ""},
		{checklist.StatusDraft, "resubmit", inspector, checklist.EConflict, ""},
		{checklist.StatusDraft, "reopen", reviewer, checklist.EConflict, ""},
		{checklist.StatusDraft, "discard", inspector, ok, checklist.StatusDiscarded},
		{checklist.StatusDraft, "discard", reviewer, checklist.EForbidden, ""},

		{checklist.StatusSubmitted, "approve", reviewer, ok, checklist.StatusApproved},
		{checklist.StatusSubmitted, "approve", admin, ok, checklist.StatusApproved},
		{checklist.StatusSubmitted, "approve", inspector, checklist.EForbidden, ""},
		{checklist.StatusSubmitted, "return", reviewer, ok, checklist.StatusReturned},
		{checklist.StatusSubmitted, "return", inspector, checklist.EForbidden, ""},
		{checklist.StatusSubmitted, "submit", inspector, checklist.EConflict, ""},
		{checklist.StatusSubmitted, "resubmit", inspector, checklist.EConflict, ""},
		{checklist.StatusSubmitted, "discard", inspector, checklist.EConflict, ""},
		{checklist.StatusSubmitted, "reopen", reviewer, checklist.EConflict, ""},

		{checklist.StatusReturned, "resubmit", inspector, ok, checklist.StatusSubmitted},
		{checklist.StatusReturned, "resubmit", reviewer, checklist.EForbidden, ""},
		{checklist.StatusReturned, "submit", inspector, checklist.EConflict, ""},
		{checklist.StatusReturned, "approve", reviewer, checklist.EConflict, ""},
		{checklist.StatusReturned, "discard", inspector, checklist.EConflict, ""},

		{checklist.StatusApproved, "reopen", reviewer, ok, checklist.StatusReturned},
		{checklist.StatusApproved, "reopen", admin, ok, checklist.StatusReturned},
		{checklist.StatusApproved, "reopen", inspector, checklist.EForbidden, ""},
		{checklist.StatusApproved, "approve", reviewer, checklist.EConflict, ""},
		{checklist.StatusApproved, "return", reviewer, checklist.EConflict, ""},
		{checklist.StatusApproved, "submit", inspector, checklist.EConflict, ""},
		{checklist.StatusApproved, "resubmit", inspector, checklist.EConflict, ""},
		{checklist.StatusApproved, "discard", inspector, checklist.EConflict, ""},

		{checklist.StatusDiscarded, "submit", inspector, checklist.EConflict, ""},
		{checklist.StatusDiscarded, "discard", inspector, checklist.EConflict, ""},
		{checklist.StatusDiscarded, "approve", reviewer, checklist.EConflict, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"/"+tt.action+"/"+string(tt.by.Role), func(t *testing.T) {
			in := inStatus(t, c, tt.from)
			before := in.Revision
			ch, err := actions[tt.action](in, tt.by)
			if got := checklist.ErrorCode(err); got != tt.want {
				t.Fatalf("%s from %s by %s: error %q (%v), want %q", tt.action, tt.from, tt.by.Role, got, err, tt.want)
			}
			if tt.want != ok {
				if in.Status != tt.from || in.Revision != before {
					t.Fatalf("a refused %s changed the inspection: status %s, revision %d", tt.action, in.Status, in.Revision)
				}
				return
			}
			if in.Status != tt.to {
				t.Fatalf("status = %s, want %s", in.Status, tt.to)
			}
			if in.Revision != before+1 {
				t.Fatalf("revision = %d, want %d", in.Revision, before+1)
			}
			last := in.History[len(in.History)-1]
			if last.From != tt.from || last.To != tt.to || last.By != tt.by.UserID || last.Revision != in.Revision || !last.At.Equal(t0) {
				t.Fatalf("history entry %+v does not record the transition", last)
			}
			if ch.Action != tt.action || ch.From != tt.from || ch.To != tt.to {
				t.Fatalf("change = %+v", ch)
			}
		})
	}
}

func TestApprovedIsLocked(t *testing.T) {
	c := &checklist.Content{}
	in := inStatus(t, c, checklist.StatusApproved)
	if err := in.CanEdit(inspector); checklist.ErrorCode(err) != checklist.ENotEditable {
		t.Fatalf("CanEdit on approved: %v, want not_editable", err)
	}
	if _, _, err := in.AddPhoto(c, checklist.Photo{SHA256: "aa"}, inspector, t0); checklist.ErrorCode(err) != checklist.ENotEditable {
		t.Fatalf("AddPhoto on approved: %v, want not_editable", err)
	}
}

func TestReturnNeedsAComment(t *testing.T) {
	c := &checklist.Content{}
	in := inStatus(t, c, checklist.StatusSubmitted)
	_, err := in.Return(c, "  ", nil, reviewer, t0)
	if checklist.ErrorCode(err) != checklist.EInvalid {
		t.Fatalf("Return without comment: %v, want invalid", err)
	}
	_, err = in.Return(c, "", map[string]string{"no-such-item": "fix"}, reviewer, t0)
	e, ok := err.(*checklist.Error)
	if !ok || len(e.Fields) != 1 || e.Fields[0].Field != "item_comments[no-such-item]" {
		t.Fatalf("Return with an unknown item: %v, want the item named", err)
	}
	if in.Status != checklist.StatusSubmitted {
		t.Fatalf("status = %s after refused returns", in.Status)
	}
}

func TestReopenNeedsAReason(t *testing.T) {
	c := &checklist.Content{}
	in := inStatus(t, c, checklist.StatusApproved)
	if _, err := in.Reopen("", reviewer, t0); checklist.ErrorCode(err) != checklist.EInvalid {
		t.Fatalf("Reopen without reason: %v, want invalid", err)
	}
	if _, err := in.Reopen("visitor count corrected", reviewer, t0); err != nil {
		t.Fatal(err)
	}
	if in.Review.Comment != "visitor count corrected" || in.Status != checklist.StatusReturned {
		t.Fatalf("after reopen: status %s, review %+v", in.Status, in.Review)
	}
}

func TestNewInspection(t *testing.T) {
	d := checklist.Date{Year: 2026, Month: 3, Day: 31}
	in, err := checklist.NewInspection(testID, "fac-1", "cl-1", 2, d, inspector, t0)
	if err != nil {
		t.Fatal(err)
	}
	if in.FiscalYear != 2025 || in.Status != checklist.StatusDraft || in.Revision != 1 {
		t.Fatalf("new inspection: %+v", in)
	}
	tests := []struct {
		name  string
		id    string
		date  checklist.Date
		by    checklist.Actor
		code  checklist.Code
		field string
	}{
		{"ErrIDNotUUID", "abc", d, inspector, checklist.EInvalid, "id"},
		{"ErrNoDate", testID, checklist.Date{}, inspector, checklist.EInvalid, "inspection_date"},
		{"ErrFutureDate", testID, checklist.Date{Year: 2027, Month: 1, Day: 1}, inspector, checklist.EInvalid, "inspection_date"},
		{"ErrReviewer", testID, d, reviewer, checklist.EForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checklist.NewInspection(tt.id, "fac-1", "cl-1", 2, tt.date, tt.by, t0)
			if checklist.ErrorCode(err) != tt.code {
				t.Fatalf("error %v, want %s", err, tt.code)
			}
			if tt.field != "" {
				e := err.(*checklist.Error)
				if e.Fields[0].Field != tt.field {
					t.Fatalf("field %q, want %q", e.Fields[0].Field, tt.field)
				}
			}
		})
	}
}

func TestSniffImage(t *testing.T) {
	tests := []struct {
		head string
		want string
	}{
		{"\xff\xd8\xff\xe0\x00\x10JFIF", checklist.TypeJPEG},
		{"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", checklist.TypePNG},
		{"RIFF\x24\x00\x00\x00WEBPVP8 ", checklist.TypeWebP},
		{"GIF89a\x01\x00\x01\x00", ""},
		{"<svg xmlns=", ""},
		{"RIFF\x24\x00\x00\x00WAVEfmt ", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := checklist.SniffImage([]byte(tt.head))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("SniffImage(%q) = %q, %v; want %q", tt.head, got, ok, tt.want)
		}
	}
}

func TestWasApplied(t *testing.T) {
	var in checklist.Inspection
	in.Revision = 5
	in.RecordApplied(checklist.Idempotency{Key: "u/k1", Fingerprint: "f1"})
	in.Applied = append(in.Applied, checklist.AppliedRequest{Key: "u/old", Revision: 2}) // no fingerprint kept
	for _, tc := range []struct {
		req     checklist.Idempotency
		rev     int64
		applied bool
		code    checklist.Code
	}{
		{checklist.Idempotency{Key: "u/k1", Fingerprint: "f1"}, 5, true, ""},
		{checklist.Idempotency{Key: "u/k1", Fingerprint: "f2"}, 0, false, checklist.EInvalid},
		{checklist.Idempotency{Key: "u/old", Fingerprint: "any"}, 2, true, ""},
		{checklist.Idempotency{Key: "u/new", Fingerprint: "f1"}, 0, false, ""},
		{checklist.Idempotency{}, 0, false, ""},
	} {
		rev, applied, err := in.WasApplied(tc.req)
		if rev != tc.rev || applied != tc.applied || checklist.ErrorCode(err) != tc.code {
			t.Errorf("WasApplied(%+v) = %d, %v, %v; want %d, %v, %q", tc.req, rev, applied, err, tc.rev, tc.applied, tc.code)
		}
	}
	for i := range checklist.MaxAppliedRequests {
		in.RecordApplied(checklist.Idempotency{Key: fmt.Sprint("u/n", i)})
	}
	if _, applied, _ := in.WasApplied(checklist.Idempotency{Key: "u/k1", Fingerprint: "f1"}); applied || len(in.Applied) != checklist.MaxAppliedRequests {
		t.Errorf("the oldest key is still remembered among %d", len(in.Applied))
	}
}

func TestRefusalsReadWell(t *testing.T) {
	in := inStatus(t, &checklist.Content{}, checklist.StatusSubmitted)
	if err := in.CanTransition(checklist.ActionApprove, inspector); err == nil || !strings.Contains(err.Error(), "an inspector cannot approve") {
		t.Fatalf("err = %v, want %q", err, "an inspector cannot approve")
	}
	if err := in.CanTransition(checklist.ActionResubmit, inspector); err == nil || !strings.Contains(err.Error(), "only a returned inspection") {
		t.Fatalf("err = %v", err)
	}
	if err := in.CanTransition(checklist.ActionReopen, reviewer); err == nil || !strings.Contains(err.Error(), "only an approved inspection") {
		t.Fatalf("err = %v", err)
	}
}
