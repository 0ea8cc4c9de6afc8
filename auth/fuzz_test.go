package auth

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tenken/checklist"
)

// FuzzVerifyAccessToken: verification never panics, and it accepts only
// an EdDSA token whose signature the server's key checks over exactly the
// signed bytes — whatever the fuzzer does to headers, claims or signature.
func FuzzVerifyAccessToken(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	key := SigningKey{ID: KeyID(pub), Private: priv, Public: pub}
	keys, err := NewKeySet(key)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	tk, err := NewTokens(TokenConfig{Keys: keys, Issuer: "tenken", Audience: "tenken-api", TTL: 10 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	valid, _, err := tk.IssueAt(checklist.User{ID: "u1", Username: "inspector1", Role: checklist.RoleInspector, FacilityIDs: []string{"f1"}}, now, "jti-1")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := tk.verify(valid); err != nil {
		f.Fatalf("the seed token does not verify: %v", err)
	}
	f.Add(valid)
	parts := strings.Split(valid, ".")
	enc := base64.RawURLEncoding.EncodeToString
	f.Add(enc([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+key.ID+`"}`)) + "." + parts[1] + ".")
	f.Add(enc([]byte(`{"alg":"HS256","typ":"at+jwt","kid":"`+key.ID+`"}`)) + "." + parts[1] + "." + parts[2])
	f.Add(parts[0] + "." + enc([]byte(`{"sub":"u1","role":"admin","iss":"tenken","aud":["tenken-api"],"exp":9999999999,"iat":1}`)) + "." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA")
	f.Add(valid + ".")
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := tk.verify(raw)
		if err != nil {
			return
		}
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts: %q", len(parts), raw)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil || !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
			t.Fatalf("accepted a token the key did not sign: %q", raw)
		}
		var header map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if json.Unmarshal(hb, &header) != nil || header["alg"] != jwt.SigningMethodEdDSA.Alg() {
			t.Fatalf("accepted a token whose header is %s", hb)
		}
		if p.UserID == "" || !p.Role.Valid() {
			t.Fatalf("accepted a token with principal %+v", p)
		}
	})
}
