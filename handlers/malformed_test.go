package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"tenken/checklist"
)

// TestMalformedRequests sends requests a careless or hostile client might
// send. Each must get a 4xx problem response with a stable code, and none
// may change anything stored.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	adminUser := api.newUser(checklist.RoleAdmin)
	admin := bearer(api.login(adminUser.Username, testPassword).AccessToken)
	facility := api.createFacility("MAL-1")
	inspector := api.newUser(checklist.RoleInspector, facility)
	user := "/v1/users/" + inspector.ID
	big := `{"username":"` + strings.Repeat("a", 2<<20) + `"}`
	goodFacility := `{"code":"MAL-2","kind":"public_hall","name":{"ja":"会館","en":"Hall"}`

	cases := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     checklist.Code
	}{
		{"LoginNoContentType", "POST", "/v1/auth/login", "", []string{"Content-Type: "}, 415, "unsupported_media_type"},
		{"LoginTextPlain", "POST", "/v1/auth/login", `{"username":"a","password":"b"}`, []string{"Content-Type: text/plain"}, 415, "unsupported_media_type"},
		{"LoginEmptyBody", "POST", "/v1/auth/login", "", []string{"Content-Type: application/json"}, 400, "bad_request"},
		{"LoginTruncatedJSON", "POST", "/v1/auth/login", `{"username":"a"`, nil, 400, "bad_request"},
		{"LoginSyntaxError", "POST", "/v1/auth/login", `{"username" "a"}`, nil, 400, "bad_request"},
		{"LoginArray", "POST", "/v1/auth/login", `["admin","pw"]`, nil, 400, "bad_request"},
		{"LoginUnknownField", "POST", "/v1/auth/login", `{"username":"a","password":"b","admin":true}`, nil, 400, "bad_request"},
		{"LoginWrongType", "POST", "/v1/auth/login", `{"username":7,"password":"b"}`, nil, 400, "bad_request"},
		{"LoginTrailingData", "POST", "/v1/auth/login", `{"username":"a","password":"b"}{}`, nil, 400, "bad_request"},
		{"LoginTrailingBrace", "POST", "/v1/auth/login", `{"username":"a","password":"b"}}`, nil, 400, "bad_request"},
		{"LoginTrailingBracket", "POST", "/v1/auth/login", `{"username":"a","password":"b"}]`, nil, 400, "bad_request"},
		{"LoginTooLarge", "POST", "/v1/auth/login", big, nil, 413, "payload_too_large"},
		{"RefreshGarbageToken", "POST", "/v1/auth/refresh", `{"refresh_token":"not-a-token"}`, nil, 401, "unauthorized"},
		{"MeBasicAuth", "GET", "/v1/me", "", []string{"Authorization: Basic YWRtaW46cHc="}, 401, "unauthorized"},
		{"MeBearerGarbage", "GET", "/v1/me", "", []string{"Authorization: Bearer a.b.c"}, 401, "unauthorized"},
		{"MeWrongMethod", "POST", "/v1/me", `{}`, []string{admin}, 405, "method_not_allowed"},
		{"UserUnknownRole", "POST", "/v1/users", `{"username":"newbie","role":"king","password":"long enough password"}`, []string{admin}, 422, "invalid"},
		{"UserBadUsername", "POST", "/v1/users", `{"username":"a b","role":"reviewer","password":"long enough password"}`, []string{admin}, 422, "invalid"},
		{"UserShortPassword", "POST", "/v1/users", `{"username":"newbie","role":"reviewer","password":"short"}`, []string{admin}, 422, "invalid"},
		{"UserInspectorWithoutFacility", "POST", "/v1/users", `{"username":"newbie","role":"inspector","password":"long enough password"}`, []string{admin}, 422, "invalid"},
		{"UserInspectorUnknownFacility", "POST", "/v1/users", `{"username":"newbie","role":"inspector","facility_ids":["nope"],"password":"long enough password"}`, []string{admin}, 422, "invalid"},
		{"UserFacilitiesNotArray", "POST", "/v1/users", `{"username":"newbie","role":"inspector","facility_ids":"` + facility + `","password":"long enough password"}`, []string{admin}, 400, "bad_request"},
		{"UserMassAssignID", "POST", "/v1/users", `{"id":"chosen","username":"newbie","role":"reviewer","password":"long enough password"}`, []string{admin}, 400, "bad_request"},
		{"UserMassAssignDisabled", "POST", "/v1/users", `{"username":"newbie","role":"reviewer","password":"long enough password","revision":9}`, []string{admin}, 400, "bad_request"},
		{"UserDuplicateUsername", "POST", "/v1/users", fmt.Sprintf(`{"username":%q,"role":"reviewer","password":"long enough password"}`, inspector.Username), []string{admin}, 409, "conflict"},
		{"UserPatchUnknown", "PATCH", "/v1/users/no-such-user", `{"revision":1,"display_name":"x"}`, []string{admin}, 404, "not_found"},
		{"UserPatchNoRevision", "PATCH", user, `{"display_name":"x"}`, []string{admin}, 422, "invalid"},
		{"UserPatchStaleRevision", "PATCH", user, `{"revision":99,"display_name":"x"}`, []string{admin}, 409, "revision_conflict"},
		{"UserPatchDisabledNotBool", "PATCH", user, `{"revision":1,"disabled":"yes"}`, []string{admin}, 400, "bad_request"},
		{"UserPasswordTooShort", "POST", user + "/password", `{"password":"short"}`, []string{admin}, 422, "invalid"},
		{"FacilityDuplicateCode", "POST", "/v1/facilities", `{"code":"MAL-1","kind":"public_hall","name":{"ja":"会館","en":"Hall"}}`, []string{admin}, 409, "conflict"},
		{"FacilityMissingName", "POST", "/v1/facilities", `{"code":"MAL-3","kind":"public_hall"}`, []string{admin}, 422, "invalid"},
		{"FacilityUnknownKind", "POST", "/v1/facilities", `{"code":"MAL-3","kind":"casino","name":{"ja":"会館"}}`, []string{admin}, 422, "invalid"},
		{"FacilityNameTooLong", "POST", "/v1/facilities", `{"code":"MAL-3","kind":"public_hall","name":{"ja":"` + strings.Repeat("館", 3000) + `"}}`, []string{admin}, 422, "invalid"},
		{"FacilityNameNotObject", "POST", "/v1/facilities", `{"code":"MAL-3","kind":"public_hall","name":"会館"}`, []string{admin}, 400, "bad_request"},
		{"FacilityUnterminated", "POST", "/v1/facilities", goodFacility, []string{admin}, 400, "bad_request"},
		{"FacilityPatchUnknown", "PATCH", "/v1/facilities/no-such-facility", `{"revision":1,"active":false}`, []string{admin}, 404, "not_found"},
		{"FacilityPatchStale", "PATCH", "/v1/facilities/" + facility, `{"revision":42,"active":false}`, []string{admin}, 409, "revision_conflict"},
		{"FacilityDelete", "DELETE", "/v1/facilities/" + facility, "", []string{admin}, 405, "method_not_allowed"},
		{"FacilityListLimitZero", "GET", "/v1/facilities?limit=0", "", []string{admin}, 400, "bad_request"},
		{"FacilityListLimitHuge", "GET", "/v1/facilities?limit=100000", "", []string{admin}, 400, "bad_request"},
		{"FacilityListLimitText", "GET", "/v1/facilities?limit=ten", "", []string{admin}, 400, "bad_request"},
		{"FacilityListBadCursor", "GET", "/v1/facilities?cursor=!!not-a-cursor", "", []string{admin}, 400, "bad_request"},
		{"FacilityListBadActive", "GET", "/v1/facilities?active=maybe", "", []string{admin}, 400, "bad_request"},
		{"UsersListBadCursor", "GET", "/v1/users?cursor=bm90LWEtY3Vyc29y", "", []string{admin}, 400, "bad_request"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	before := api.state(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			api.request(tc.method, tc.path, body, tc.headers...).problem(t, tc.status, tc.code)
			if after := api.state(t); after != before {
				t.Fatalf("stored state changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
