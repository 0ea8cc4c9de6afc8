package auth

import (
	"strings"
	"testing"

	"tenken/auth/authtest"
)

func TestPasswordHash(t *testing.T) {
	authtest.UseProductionPasswordCost(t)
	h1, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || h1 == h2 {
		t.Fatalf("hashes %q and %q: want PHC argon2id strings with different salts", h1, h2)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"", false},
	} {
		if ok, err := CheckPassword(h1, tc.password); err != nil || ok != tc.want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
		}
	}
	// No hash: a user that does not exist, refused after a dummy hash.
	if ok, err := CheckPassword("", "correct horse battery staple"); ok || err != nil {
		t.Errorf(`CheckPassword("") = %v, %v; want false, nil`, ok, err)
	}
	for _, bad := range []string{
		"plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4000000,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // a planted 4 GiB cost
		"$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword accepted the hash %q", bad)
		}
	}
}

func TestParseKeyPEM(t *testing.T) {
	k, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseKeyPEM(b)
	if err != nil || got.ID != k.ID || !got.Private.Equal(k.Private) {
		t.Fatalf("round trip: %+v, %v", got.ID, err)
	}
	if _, err := ParseKeyPEM([]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")); err == nil {
		t.Fatal("an RSA key was accepted")
	}
}

// BenchmarkCheckPassword times a wrong password against a user's hash and
// against no hash (an unknown user) at the production cost: the two
// sub-benchmarks' ns/op should be alike, so that a failed login's time
// does not tell which usernames exist. handlers' TestLogin counts that an
// unknown user's login derives a key.
//
//	go test -run '^$' -bench CheckPassword -benchtime 20x ./auth/
func BenchmarkCheckPassword(b *testing.B) {
	authtest.UseProductionPasswordCost(b)
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, hash string }{{"Known", hash}, {"Unknown", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := CheckPassword(tc.hash, "wrong password!"); ok || err != nil {
					b.Fatalf("CheckPassword = %v, %v", ok, err)
				}
			}
		})
	}
}
