package handlers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tenken/auth"
	"tenken/auth/authtest"
	"tenken/checklist"
	"tenken/handlers"
	"tenken/storage/archive"
)

func TestLogin(t *testing.T) {
	api := newTestAPI(t)
	u := api.newUser(checklist.RoleReviewer)

	t.Run("OK", func(t *testing.T) {
		r := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword}).wantStatus(t, http.StatusOK)
		var tk tokens
		r.decode(t, &tk)
		if tk.TokenType != "Bearer" || tk.ExpiresIn != 600 || tk.AccessToken == "" || len(tk.RefreshToken) != 43 {
			t.Fatalf("token response %+v", tk)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control = %q", cc)
		}
		var me struct {
			ID, Username, Role string
		}
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).wantStatus(t, http.StatusOK).decode(t, &me)
		if me.ID != u.ID || me.Username != u.Username || me.Role != "reviewer" {
			t.Fatalf("me = %+v", me)
		}
	})
	t.Run("UsernameAnyCase", func(t *testing.T) {
		api.login(strings.ToUpper(u.Username), testPassword)
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		p := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "not the password"}).
			problem(t, http.StatusUnauthorized, "unauthorized")
		q := api.request("POST", "/v1/auth/login", map[string]string{"username": "nobody-here", "password": "not the password"}).
			problem(t, http.StatusUnauthorized, "unauthorized")
		if p.Detail != q.Detail {
			t.Fatalf("unknown user and wrong password answer differently: %q vs %q", p.Detail, q.Detail)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		d := api.newUser(checklist.RoleReviewer)
		disable(t, api, d)
		api.request("POST", "/v1/auth/login", map[string]string{"username": d.Username, "password": testPassword}).
			problem(t, http.StatusUnauthorized, "unauthorized")
	})
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   checklist.Code
		field  string
	}{
		{"ErrEmptyBody", "", 400, "bad_request", ""},
		{"ErrNotJSON", "username=admin", 400, "bad_request", ""},
		{"ErrUnknownField", `{"username":"a","password":"b","grant_type":"password"}`, 400, "bad_request", "grant_type"},
		{"ErrWrongType", `{"username":"a","password":123}`, 400, "bad_request", "password"},
		{"ErrTwoValues", `{"username":"a","password":"b"}{}`, 400, "bad_request", ""},
		{"ErrMissingPassword", `{"username":"a"}`, 422, "invalid", "password"},
		{"ErrMissingUsername", `{"password":"b"}`, 422, "invalid", "username"},
		{"ErrTooLarge", `{"username":"` + strings.Repeat("a", 10<<10) + `","password":"b"}`, 413, "payload_too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := api.request("POST", "/v1/auth/login", tc.body).problem(t, tc.status, tc.code)
			if tc.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tc.field) {
				t.Fatalf("errors = %+v, want field %s", p.Errors, tc.field)
			}
		})
	}
	t.Run("ErrContentType", func(t *testing.T) {
		api.request("POST", "/v1/auth/login", []byte(`{"username":"a","password":"b"}`), "Content-Type: text/plain").
			problem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("UnknownUserCostsAHash", func(t *testing.T) {
		// Without the dummy hash an unknown user would answer without
		// deriving a key, in about a millisecond against a wrong
		// password's tens: the time would tell which usernames exist.
		// Counted here; auth's BenchmarkCheckPassword times both.
		known := api.newUser(checklist.RoleReviewer)
		for _, username := range []string{known.Username, "no-such-user"} {
			before := authtest.Derivations()
			api.request("POST", "/v1/auth/login", map[string]string{"username": username, "password": "wrong password!"}).
				wantStatus(t, http.StatusUnauthorized)
			if n := authtest.Derivations() - before; n != 1 {
				t.Errorf("a failed login as %q derived %d keys, want 1", username, n)
			}
		}
	})
}

// waitRefused waits until the access token is refused, for changes made
// round the server (straight to the store), which it sees within a few
// seconds (its per-user copy expires).
func waitRefused(t *testing.T, api *testAPI, access string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := api.request("GET", "/v1/me", nil, bearer(access))
		if r.StatusCode == http.StatusUnauthorized {
			r.problem(t, http.StatusUnauthorized, "unauthorized")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the access token is still accepted: %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// disable disables u through the store.
func disable(t *testing.T, api *testAPI, u checklist.User) {
	t.Helper()
	yes := true
	cur, err := api.db.FindUser(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.db.UpdateUser(context.Background(), u.ID, cur.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
		return checklist.UserChange{Disabled: &yes}.Apply(u, "", api.clk.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	t.Run("PerAccount", func(t *testing.T) {
		api := newTestAPIWith(t, func(c *handlers.Config) {
			c.LoginThrottle = handlers.ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute}
		})
		u := api.newUser(checklist.RoleAdmin)
		bad := map[string]string{"username": u.Username, "password": "wrong password!"}
		for range 3 {
			api.request("POST", "/v1/auth/login", bad).problem(t, http.StatusUnauthorized, "unauthorized")
		}
		// Blocked now, even with the right password.
		r := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword})
		r.problem(t, http.StatusTooManyRequests, "too_many_requests")
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Fatalf("Retry-After = %q, want 1..60 seconds", r.Header.Get("Retry-After"))
		}
		// Another account from the same client is not blocked.
		api.login(api.newUser(checklist.RoleReviewer).Username, testPassword)
		// After the wait one attempt is allowed, and a success clears it.
		api.clk.Advance(61 * time.Second)
		api.login(u.Username, testPassword)
		api.request("POST", "/v1/auth/login", bad).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("PerClient", func(t *testing.T) {
		api := newTestAPIWith(t, func(c *handlers.Config) {
			c.LoginThrottle = handlers.ThrottleConfig{ClientBurst: 4, ClientEvery: 10 * time.Second}
		})
		for i := range 4 {
			api.request("POST", "/v1/auth/login", map[string]string{"username": "guess" + strconv.Itoa(i), "password": "wrong password!"}).
				problem(t, http.StatusUnauthorized, "unauthorized")
		}
		u := api.newUser(checklist.RoleReviewer)
		r := api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword})
		r.problem(t, http.StatusTooManyRequests, "too_many_requests")
		if ra := r.Header.Get("Retry-After"); ra != "10" {
			t.Fatalf("Retry-After = %q, want 10", ra)
		}
		// X-Forwarded-For from an untrusted peer does not make a new client.
		api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword}, "X-Forwarded-For: 203.0.113.9").
			problem(t, http.StatusTooManyRequests, "too_many_requests")
		api.clk.Advance(10 * time.Second)
		api.login(u.Username, testPassword)
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	refresh := func(token string) response {
		return api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": token})
	}

	t.Run("RotatesAndReuseRevokesFamily", func(t *testing.T) {
		u := api.newUser(checklist.RoleReviewer)
		first := api.login(u.Username, testPassword)
		var second tokens
		refresh(first.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &second)
		if second.RefreshToken == first.RefreshToken || second.AccessToken == "" || len(second.RefreshToken) != 43 || second.ExpiresIn != 600 {
			t.Fatalf("refresh did not rotate: %+v", second)
		}
		api.request("GET", "/v1/me", nil, bearer(second.AccessToken)).wantStatus(t, http.StatusOK)
		// The old token is used up; presenting it again after the grace
		// period revokes the family, so the legitimate successor dies
		// with it.
		api.clk.Advance(checklist.RefreshReuseGrace)
		refresh(first.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(second.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		// Other sessions of the same user live on.
		other := api.login(u.Username, testPassword)
		refresh(other.RefreshToken).wantStatus(t, http.StatusOK)
	})
	t.Run("LostResponseRetryWithinGrace", func(t *testing.T) {
		tk := api.login(api.newUser(checklist.RoleInspector).Username, testPassword)
		var lost, again tokens
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &lost)
		// The answer never reached the tablet, which retries with the
		// token it still holds, just inside the window.
		api.clk.Advance(checklist.RefreshReuseGrace - time.Second)
		r := refresh(tk.RefreshToken).wantStatus(t, http.StatusOK)
		r.decode(t, &again)
		if again.RefreshToken != lost.RefreshToken || again.AccessToken != lost.AccessToken {
			t.Fatalf("the retry got another pair:\n%+v\nwant the lost one\n%+v", again, lost)
		}
		if want := 600 - int(checklist.RefreshReuseGrace/time.Second) + 1; again.ExpiresIn != want {
			t.Fatalf("expires_in = %d, want %d (the access token's remaining life)", again.ExpiresIn, want)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control = %q", cc)
		}
		// The session survives: the pair works, and its refresh rotates.
		api.request("GET", "/v1/me", nil, bearer(again.AccessToken)).wantStatus(t, http.StatusOK)
		var next tokens
		refresh(again.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &next)
		if next.RefreshToken == again.RefreshToken {
			t.Fatal("the replayed refresh token did not rotate")
		}
		api.request("GET", "/v1/me", nil, bearer(next.AccessToken)).wantStatus(t, http.StatusOK)
		refresh(next.RefreshToken).wantStatus(t, http.StatusOK)
	})
	t.Run("ErrRetryAfterGraceRevokesFamily", func(t *testing.T) {
		tk := api.login(api.newUser(checklist.RoleInspector).Username, testPassword)
		var lost tokens
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &lost)
		api.clk.Advance(checklist.RefreshReuseGrace)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(lost.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ErrRetryAfterSuccessorUsedRevokesFamily", func(t *testing.T) {
		tk := api.login(api.newUser(checklist.RoleInspector).Username, testPassword)
		var second, third tokens
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &second)
		refresh(second.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &third)
		// Well inside the window, but the client that got the pair used
		// it: whoever presents the old token now is someone else.
		api.clk.Advance(time.Second)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(third.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		// A replay of the newest consumption is refused too: the session is gone.
		refresh(second.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ErrReplayAfterRoleChange", func(t *testing.T) {
		// A role change ends the session: a retry within the grace period
		// gets nothing either, not even the pair it lost.
		u := api.newUser(checklist.RoleReviewer)
		tk := api.login(u.Username, testPassword)
		var lost tokens
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &lost)
		role := checklist.RoleAdmin
		if _, err := api.db.UpdateUser(context.Background(), u.ID, u.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{Role: &role}.Apply(u, "", api.clk.Now())
		}); err != nil {
			t.Fatal(err)
		}
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		refresh(lost.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("RoleChangeEndsSessions", func(t *testing.T) {
		u := api.newUser(checklist.RoleReviewer)
		tk := api.login(u.Username, testPassword)
		api.request("GET", "/v1/users", nil, bearer(tk.AccessToken)).problem(t, http.StatusForbidden, "forbidden")
		role := checklist.RoleAdmin
		if _, err := api.db.UpdateUser(context.Background(), u.ID, u.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{Role: &role}.Apply(u, "", api.clk.Now())
		}); err != nil {
			t.Fatal(err)
		}
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		// The change went round this instance (straight to the store), so
		// the old token dies when the cached copy of the user expires.
		waitRefused(t, api, tk.AccessToken)
		// A login in the same second gets the new role at once.
		next := api.login(u.Username, testPassword)
		api.request("GET", "/v1/users", nil, bearer(next.AccessToken)).wantStatus(t, http.StatusOK)
	})
	t.Run("ErrDisabledUser", func(t *testing.T) {
		u := api.newUser(checklist.RoleReviewer)
		tk := api.login(u.Username, testPassword)
		disable(t, api, u)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).problem(t, http.StatusUnauthorized, "unauthorized")
		// Enabled again, the account stays signed out of that session.
		cur, err := api.db.FindUser(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		no := false
		if _, err := api.db.UpdateUser(context.Background(), u.ID, cur.Revision, checklist.SystemActor, func(u checklist.User) (checklist.User, error) {
			return checklist.UserChange{Disabled: &no}.Apply(u, "", api.clk.Now())
		}); err != nil {
			t.Fatal(err)
		}
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		tk := api.login(api.newUser(checklist.RoleReviewer).Username, testPassword)
		api.clk.Advance(auth.DefaultRefreshTTL + time.Second)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		api.request("GET", "/v1/me", nil, bearer(tk.AccessToken)).problem(t, http.StatusUnauthorized, "unauthorized")
	})
	t.Run("LogoutThenRefresh", func(t *testing.T) {
		tk := api.login(api.newUser(checklist.RoleReviewer).Username, testPassword)
		var next tokens
		refresh(tk.RefreshToken).wantStatus(t, http.StatusOK).decode(t, &next)
		api.request("POST", "/v1/auth/logout", map[string]string{"refresh_token": next.RefreshToken}).wantStatus(t, http.StatusNoContent)
		refresh(next.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		// Logging out twice, or with a token never issued, is fine.
		api.request("POST", "/v1/auth/logout", map[string]string{"refresh_token": next.RefreshToken}).wantStatus(t, http.StatusNoContent)
		api.request("POST", "/v1/auth/logout", map[string]string{"refresh_token": "never-issued"}).wantStatus(t, http.StatusNoContent)
	})
	t.Run("PasswordResetEndsSessions", func(t *testing.T) {
		u := api.newUser(checklist.RoleInspector)
		tk := api.login(u.Username, testPassword)
		admin := api.tokenFor(checklist.RoleAdmin)
		api.request("POST", "/v1/users/"+u.ID+"/password", map[string]string{"password": "a brand new password"}, bearer(admin)).
			wantStatus(t, http.StatusNoContent)
		refresh(tk.RefreshToken).problem(t, http.StatusUnauthorized, "unauthorized")
		api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": testPassword}).
			problem(t, http.StatusUnauthorized, "unauthorized")
		api.login(u.Username, "a brand new password")
	})
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       checklist.Code
	}{
		{"ErrRefreshUnknown", "/v1/auth/refresh", map[string]string{"refresh_token": "never-issued"}, 401, "unauthorized"},
		{"ErrRefreshMissing", "/v1/auth/refresh", `{}`, 422, "invalid"},
		{"ErrRefreshUnknownField", "/v1/auth/refresh", `{"refresh_token":"x","client_id":"y"}`, 400, "bad_request"},
		{"ErrRefreshWrongType", "/v1/auth/refresh", `{"refresh_token":42}`, 400, "bad_request"},
		{"ErrLogoutMissing", "/v1/auth/logout", `{"refresh_token":""}`, 422, "invalid"},
		{"ErrLogoutNotJSON", "/v1/auth/logout", `refresh_token=x`, 400, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api.request("POST", tc.path, tc.body).problem(t, tc.status, tc.code)
		})
	}
}

// TestRefreshConcurrent presents one refresh token from 8 clients at once:
// exactly one rotation happens, and all 8 get its pair (the others are
// retries within the grace period). The storage test counts the family's
// tokens; here the one pair rotates once, and its token, reused after the
// window, revokes the session: there was no second successor.
func TestRefreshConcurrent(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.newUser(checklist.RoleReviewer)
	for round := range 3 {
		tk := api.login(u.Username, testPassword)
		var wg sync.WaitGroup
		statuses := make([]int, 8)
		pairs := make([]tokens, 8)
		for i := range statuses {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", api.srv.URL+"/v1/auth/refresh",
					strings.NewReader(`{"refresh_token":"`+tk.RefreshToken+`"}`))
				req.Header.Set("Content-Type", "application/json")
				res, err := api.srv.Client().Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				statuses[i] = res.StatusCode
				if err := json.NewDecoder(res.Body).Decode(&pairs[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if want := slices.Repeat([]int{200}, 8); !slices.Equal(statuses, want) {
			t.Fatalf("round %d: statuses %v, want %v", round, statuses, want)
		}
		for i, p := range pairs {
			if p != pairs[0] {
				t.Fatalf("round %d: client %d got %+v, client 0 got %+v; want one pair", round, i, p, pairs[0])
			}
		}
		var next tokens
		api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": pairs[0].RefreshToken}).
			wantStatus(t, http.StatusOK).decode(t, &next)
		api.clk.Advance(checklist.RefreshReuseGrace)
		api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": pairs[0].RefreshToken}).
			problem(t, http.StatusUnauthorized, "unauthorized")
		api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": next.RefreshToken}).
			problem(t, http.StatusUnauthorized, "unauthorized")
	}
}

// TestTokenAttacks sends forged and broken access tokens: each is refused
// with 401, and the well-formed control token is accepted.
func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.newUser(checklist.RoleInspector)
	now := api.clk.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": auth.DefaultIssuer, "aud": auth.DefaultAudience, "sub": u.ID,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
			"role": "inspector", "facility_ids": u.FacilityIDs, "preferred_username": u.Username,
		}
	}
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = api.key.ID
		tok.Header["typ"] = "at+jwt"
		for k, v := range header {
			if v == nil {
				delete(tok.Header, k)
			} else {
				tok.Header[k] = v
			}
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := valid()
		change(c)
		return c
	}
	ours := func(claims jwt.MapClaims) string { return sign(jwt.SigningMethodEdDSA, api.key.Private, claims, nil) }

	// Control: a token built the same way with the real key works.
	api.request("GET", "/v1/me", nil, bearer(ours(valid()))).wantStatus(t, http.StatusOK)

	_, otherKey, _ := ed25519.GenerateKey(nil)
	pubDER, _ := x509.MarshalPKIXPublicKey(api.key.Public)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	tampered := func() string {
		parts := strings.Split(ours(valid()), ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"role":"inspector"`, `"role":"admin"`, 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}

	for _, tc := range []struct {
		name  string
		token string
	}{
		{"AlgNone", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(), nil)},
		{"WrongKey", sign(jwt.SigningMethodEdDSA, otherKey, valid(), nil)},
		{"HS256WithPublicKeyBytes", sign(jwt.SigningMethodHS256, []byte(api.key.Public), valid(), nil)},
		{"HS256WithPublicKeyPEM", sign(jwt.SigningMethodHS256, pubPEM, valid(), nil)},
		{"Expired", ours(with(func(c jwt.MapClaims) {
			c["iat"] = now.Add(-20 * time.Minute).Unix()
			c["exp"] = now.Add(-10 * time.Minute).Unix()
		}))},
		{"NoExp", ours(with(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"NoIat", ours(with(func(c jwt.MapClaims) { delete(c, "iat") }))},
		{"IatInFuture", ours(with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }))},
		{"WrongAudience", ours(with(func(c jwt.MapClaims) { c["aud"] = "another-api" }))},
		{"NoAudience", ours(with(func(c jwt.MapClaims) { delete(c, "aud") }))},
		{"WrongIssuer", ours(with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))},
		{"NoSubject", ours(with(func(c jwt.MapClaims) { delete(c, "sub") }))},
		{"UnknownRole", ours(with(func(c jwt.MapClaims) { c["role"] = "superuser" }))},
		{"TamperedPayload", tampered()},
		{"NoKid", sign(jwt.SigningMethodEdDSA, api.key.Private, valid(), map[string]any{"kid": nil})},
		{"UnknownKid", sign(jwt.SigningMethodEdDSA, api.key.Private, valid(), map[string]any{"kid": "not-a-key"})},
		{"OtherKeyUnderOurKid", sign(jwt.SigningMethodEdDSA, otherKey, valid(), map[string]any{"kid": api.key.ID})},
		{"NotAnAccessToken", sign(jwt.SigningMethodEdDSA, api.key.Private, valid(), map[string]any{"typ": "JWT"})},
		{"Garbage", "not.a.jwt"},
		{"Huge", strings.Repeat("a", 5000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := api.request("GET", "/v1/me", nil, bearer(tc.token))
			r.problem(t, http.StatusUnauthorized, "unauthorized")
			if !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
				t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, tc := range []struct{ name, header string }{
		{"NoHeader", ""},
		{"BasicScheme", "Authorization: Basic YWRtaW46YWRtaW4="},
		{"EmptyBearer", "Authorization: Bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			api.request("GET", "/v1/me", nil, headers...).problem(t, http.StatusUnauthorized, "unauthorized")
		})
	}
	t.Run("AccessTokenExpiresWithClock", func(t *testing.T) {
		tk := api.tokenFor(checklist.RoleReviewer)
		api.request("GET", "/v1/me", nil, bearer(tk)).wantStatus(t, http.StatusOK)
		api.clk.Advance(auth.DefaultAccessTTL + time.Minute)
		api.request("GET", "/v1/me", nil, bearer(tk)).problem(t, http.StatusUnauthorized, "unauthorized")
	})
}

// TestKeyRotation: a token signed by the old key still verifies after a
// new key takes over signing, until the old key leaves the set.
// sibling is another server on a's database and clock, with keys.
func (a *testAPI) sibling(t *testing.T, keys *auth.KeySet) *testAPI {
	t.Helper()
	cfg := a.cfg
	cfg.Keys = keys
	s, err := handlers.NewServer(cfg, a.db)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	sib := &testAPI{t: t, srv: srv, db: a.db, cfg: cfg, clk: a.clk}
	sib.seq.Store(a.seq.Load() + 1000) // names its users apart
	return sib
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, _ := auth.GenerateSigningKey()
	newKey, _ := auth.GenerateSigningKey()
	oldSet, _ := auth.NewKeySet(oldKey)
	retired := auth.SigningKey{ID: oldKey.ID, Public: oldKey.Public}
	rotated, err := auth.NewKeySet(retired, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.SignerID() != newKey.ID {
		t.Fatalf("signer = %s, want the newest key %s", rotated.SignerID(), newKey.ID)
	}
	before := newTestAPIWith(t, func(c *handlers.Config) { c.Keys = oldSet })
	oldToken := before.tokenFor(checklist.RoleReviewer)

	// Another instance on the same database with the rotated set.
	after := before.sibling(t, rotated)
	after.request("GET", "/v1/facilities", nil, bearer(oldToken)).wantStatus(t, http.StatusOK)
	newToken := after.tokenFor(checklist.RoleReviewer)
	after.request("GET", "/v1/facilities", nil, bearer(newToken)).wantStatus(t, http.StatusOK)
	var h struct {
		Kid string `json:"kid"`
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(newToken, ".")[0])
	if err := json.Unmarshal(hdr, &h); err != nil || h.Kid != newKey.ID {
		t.Fatalf("new token kid = %q (%v), want %s", h.Kid, err, newKey.ID)
	}

	// Once the old key is dropped, its tokens stop working.
	dropped, _ := auth.NewKeySet(newKey)
	gone := before.sibling(t, dropped)
	gone.request("GET", "/v1/facilities", nil, bearer(oldToken)).problem(t, http.StatusUnauthorized, "unauthorized")

	if _, err := auth.NewKeySet(retired); err == nil {
		t.Fatal("a key set without a private key was accepted")
	}
}

// TestRefreshTokensNotStoredInClear takes a backup of the database after
// a login, a refresh and its replay within the grace period: no refresh
// or access token appears in it, not even the successor a replay returns
// (it is derived, not kept).
func TestRefreshTokensNotStoredInClear(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	tk := api.login(api.newUser(checklist.RoleInspector).Username, testPassword)
	var lost, again, next tokens
	refresh := func(token string, into *tokens) {
		api.request("POST", "/v1/auth/refresh", map[string]string{"refresh_token": token}).wantStatus(t, http.StatusOK).decode(t, into)
	}
	refresh(tk.RefreshToken, &lost)
	refresh(tk.RefreshToken, &again)
	refresh(again.RefreshToken, &next)
	var buf bytes.Buffer
	if _, err := archive.Backup(context.Background(), api.db, &buf, archive.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	dump, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// The tokens are there by hash, so this reads the right documents.
	for _, tok := range []string{tk.RefreshToken, lost.RefreshToken, next.RefreshToken} {
		sum := sha256.Sum256([]byte(tok))
		if !bytes.Contains(dump, []byte(hex.EncodeToString(sum[:]))) {
			t.Fatal("a refresh token's hash is not in the backup: the test reads the wrong thing")
		}
	}
	for name, secret := range map[string]string{
		"login refresh": tk.RefreshToken, "login access": tk.AccessToken,
		"rotated refresh": lost.RefreshToken, "rotated access": lost.AccessToken,
		"next refresh": next.RefreshToken, "next access": next.AccessToken,
	} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the %s token is in the database in clear", name)
		}
	}
}

// TestLoginThrottleConcurrent: concurrent wrong passwords for one account
// reach the password hash no more often than the account's burst.
func TestLoginThrottleConcurrent(t *testing.T) {
	api := newTestAPIWith(t, func(c *handlers.Config) {
		c.LoginThrottle = handlers.ThrottleConfig{AccountBurst: 5, AccountEvery: time.Minute, ClientBurst: 1000}
	})
	u := api.newUser(checklist.RoleAdmin)
	statuses := make(chan int, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			statuses <- api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "wrong password!"}).StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != 45 {
		t.Fatalf("statuses %v, want 5 × 401 (hashed) and 45 × 429", count)
	}
}

// TestLoginHashQueue: a flood of logins does not queue hashing without
// bound: beyond the queue, logins are answered 503 with Retry-After at
// once, and a real login afterwards is served.
func TestLoginHashQueue(t *testing.T) {
	api := newTestAPIWith(t, func(c *handlers.Config) {
		c.LoginThrottle = handlers.ThrottleConfig{AccountBurst: 1000, ClientBurst: 1000, HashSlots: 1, HashQueue: 2}
	})
	authtest.UseProductionPasswordCost(t)
	u := api.newUser(checklist.RoleReviewer)
	statuses := make(chan response, 24)
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			statuses <- api.request("POST", "/v1/auth/login", map[string]string{"username": u.Username, "password": "wrong password!"})
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for r := range statuses {
		count[r.StatusCode]++
		if r.StatusCode == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After: %s", r.Body)
		}
	}
	if count[http.StatusServiceUnavailable] == 0 || count[http.StatusUnauthorized]+count[http.StatusServiceUnavailable] != 24 {
		t.Fatalf("statuses %v, want some 503 and the rest 401", count)
	}
	api.login(u.Username, testPassword)
}
