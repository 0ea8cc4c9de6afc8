package handlers_test

import (
	"net/http"
	"testing"

	"tenken/checklist"
)

// TestStrictJSON: a name given twice (where the last would win) and a
// string that is not UTF-8 (which would be stored with U+FFFD) are
// refused with 400 naming the field, and nothing is stored.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	e := newInspectionEnv(t)
	victim := e.newUser(checklist.RoleInspector, e.own)
	id := e.create(t, e.inspector, e.own)
	before := e.stored(t, id)

	for _, tc := range []struct {
		name, method, path, body, auth, field, code string
	}{
		{"LoginDuplicateUsername", "POST", "/v1/auth/login",
			`{"username":"nobody","username":"` + victim.Username + `","password":"` + testPassword + `"}`, "", "username", "duplicate"},
		{"LoginDuplicateUsernameOtherCase", "POST", "/v1/auth/login",
			`{"username":"nobody","USERNAME":"` + victim.Username + `","password":"` + testPassword + `"}`, "", "USERNAME", "duplicate"},
		{"SaveDuplicateBaseRevision", "PATCH", "/v1/inspections/" + id,
			`{"base_revision":1,"base_revision":1,"answers":{"flyers.rack":{"value":"yes"}}}`, e.inspector, "base_revision", "duplicate"},
		{"SaveDuplicateItem", "PATCH", "/v1/inspections/" + id,
			`{"base_revision":1,"answers":{"flyers.rack":{"value":"yes"},"flyers.rack":{"value":"no"}}}`, e.inspector, "answers[flyers.rack]", "duplicate"},
		{"SaveCommentInvalidUTF8", "PATCH", "/v1/inspections/" + id,
			"{\"base_revision\":1,\"answers\":{\"flyers.rack\":{\"value\":\"no\",\"comment\":\"ab\xff\xfe\"}}}", e.inspector, "answers[flyers.rack].comment", "utf8"},
		{"SaveCommentLoneSurrogate", "PATCH", "/v1/inspections/" + id,
			`{"base_revision":1,"answers":{"flyers.rack":{"value":"no","comment":"a\ud800b"}}}`, e.inspector, "answers[flyers.rack].comment", "utf8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.auth != "" {
				headers = append(headers, tc.auth)
			}
			p := e.request(tc.method, tc.path, tc.body, headers...).problem(t, http.StatusBadRequest, checklist.EBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Code != tc.code {
				t.Fatalf("problem %+v, want field %q code %q", p, tc.field, tc.code)
			}
			if after := e.stored(t, id); after.Revision != before.Revision || len(after.Answers) != len(before.Answers) {
				t.Fatalf("the inspection changed: revision %d → %d", before.Revision, after.Revision)
			}
		})
	}
	t.Run("PairedSurrogateOK", func(t *testing.T) {
		e.request("PATCH", "/v1/inspections/"+id,
			`{"base_revision":1,"answers":{"flyers.rack":{"value":"no","comment":"\ud83d\ude00 絵文字"}}}`, e.inspector).wantStatus(t, http.StatusOK)
		if got := e.get(t, e.inspector, id).Answers["flyers.rack"].Comment; got != "😀 絵文字" {
			t.Fatalf("comment = %q", got)
		}
	})
}
