package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"tenken/checklist"
)

// TestCreateWithAnswers: a create may carry answers, under the rules of a
// save; the inspection is created with them at revision 1 in one write,
// bad answers create nothing, and a retry of the same request is
// answered with what it created.
func TestCreateWithAnswers(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	ctx := context.Background()
	withAnswers := func(answers map[string]any) map[string]any {
		b := e.createBody(e.own)
		b["answers"] = answers
		return b
	}
	answers := map[string]any{
		"signage.entrance": map[string]any{"value": "yes"},
		"flyers.rack":      map[string]any{"value": "yes"},
		"flyers.layout":    map[string]any{"value": "none"},
		"notes.n01":        nil,
	}
	notCreated := func(t *testing.T, id string) {
		t.Helper()
		if _, err := e.db.FindInspection(ctx, id); checklist.ErrorCode(err) != checklist.ENotFound {
			t.Fatalf("inspection %s: %v, want not found (nothing created)", id, err)
		}
	}

	t.Run("OK", func(t *testing.T) {
		id := uuid.NewString()
		r := e.request("PUT", "/v1/inspections/"+id, withAnswers(answers), e.inspector).wantStatus(t, http.StatusCreated)
		if r.Header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q, want revision 1", r.Header.Get("ETag"))
		}
		var v inspectionView
		r.decode(t, &v)
		if v.Revision != 1 || len(v.Answers) != 3 || v.Answers["flyers.layout"].Value != "none" ||
			!v.Answers["flyers.layout"].Failed || v.Answers["signage.entrance"].Revision != 1 || v.Totals.Failed != 1 {
			t.Fatalf("created: %+v", v)
		}
		if got := e.get(t, e.inspector, id); got.Revision != 1 || len(got.Answers) != 3 {
			t.Fatalf("read back: %+v", got)
		}
		// A save on revision 1 follows as after any create.
		e.save(e.inspector, id, 1, map[string]any{"notes.n02": map[string]any{"value": "後から"}}).wantStatus(t, http.StatusOK)
		entries, _, err := e.db.ListAudit(ctx, checklist.AuditQuery{EntityID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[1].Action != checklist.ActionCreate || len(entries[1].Items) != 3 || entries[1].Revision != 1 {
			t.Fatalf("audit (newest first): %+v, want the save after the create naming its 3 items", entries)
		}
	})

	t.Run("ErrInvalidAnswers", func(t *testing.T) {
		id := uuid.NewString()
		p := e.request("PUT", "/v1/inspections/"+id, withAnswers(map[string]any{
			"signage.entrance":      map[string]any{"value": "maybe"},
			"no.such.item":          map[string]any{"value": "yes"},
			"flyers.expired_count":  map[string]any{"value": 3}, // hidden: flyers.rack is not yes
			"signage.clarity":       map[string]any{"value": 3},
			"flyers.languages":      map[string]any{"value": []string{"ja"}},
			"signage.entrance.typo": nil,
		}), e.inspector).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		if len(p.Errors) < 2 {
			t.Fatalf("problem fields %+v, want each bad answer named", p.Errors)
		}
		notCreated(t, id)
	})

	t.Run("ErrPhotoNotUploaded", func(t *testing.T) {
		id := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+id, withAnswers(map[string]any{
			"signage.entrance": map[string]any{"value": "no", "comment": "見えない", "photos": []string{sha256Hex([]byte("x"))}},
		}), e.inspector).problem(t, http.StatusUnprocessableEntity, checklist.EInvalid)
		notCreated(t, id)
	})

	t.Run("ErrMalformedAnswers", func(t *testing.T) {
		id := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+id, withAnswers(map[string]any{"signage.entrance": "yes"}), e.inspector).
			problem(t, http.StatusBadRequest, checklist.EBadRequest)
		notCreated(t, id)
	})

	t.Run("Replay", func(t *testing.T) {
		id := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+id, withAnswers(answers), e.inspector).wantStatus(t, http.StatusCreated)
		r := e.request("PUT", "/v1/inspections/"+id, withAnswers(answers), e.inspector).wantStatus(t, http.StatusOK)
		var v inspectionView
		r.decode(t, &v)
		if r.Header.Get("Idempotent-Replayed") != "true" || v.Revision != 1 || len(v.Answers) != 3 {
			t.Fatalf("replay: %v %+v", r.Header, v)
		}
		if in := e.stored(t, id); in.Revision != 1 {
			t.Fatalf("revision %d after a replay, want 1", in.Revision)
		}
	})

	t.Run("ErrRetryWithOtherAnswers", func(t *testing.T) {
		id := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+id, withAnswers(answers), e.inspector).wantStatus(t, http.StatusCreated)
		other := withAnswers(map[string]any{"signage.entrance": map[string]any{"value": "no", "comment": "暗い"}})
		e.request("PUT", "/v1/inspections/"+id, other, e.inspector).problem(t, http.StatusConflict, checklist.EConflict)
		// Created bare, then a create with answers: they would be lost.
		bare := uuid.NewString()
		e.request("PUT", "/v1/inspections/"+bare, e.createBody(e.own), e.inspector).wantStatus(t, http.StatusCreated)
		e.request("PUT", "/v1/inspections/"+bare, withAnswers(answers), e.inspector).problem(t, http.StatusConflict, checklist.EConflict)
		if in := e.stored(t, bare); len(in.Answers) != 0 || in.Revision != 1 {
			t.Fatalf("bare inspection changed: revision %d, %d answers", in.Revision, len(in.Answers))
		}
		// A bare retry of a create that had answers is answered as before.
		e.request("PUT", "/v1/inspections/"+id, e.createBody(e.own), e.inspector).wantStatus(t, http.StatusOK)
	})
}
