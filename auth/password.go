package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"tenken/auth/internal/argoncost"
)

// Passwords are hashed with argon2id, memory-hard, at the parameters
// OWASP recommends for it (argoncost.Production), with a random 16-byte
// salt per password, and stored in the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// The parameters travel in the string, so raising them later keeps old
// hashes verifiable.

const argonSaltLen = 16

// hashSlots bounds concurrent hashing to the CPUs: each hash takes 19 MiB
// and a core for tens of milliseconds, and a login flood must not take
// the memory of the whole process.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

func argonKey(password string, salt []byte, p argoncost.Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	argoncost.Derivations.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// HashPassword returns the encoded argon2id hash of password. It does not
// check the password rules; see checklist.ValidatePassword.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := *argoncost.Current.Load()
	key := argonKey(password, salt, p)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash,
// comparing in constant time. An error means the hash is malformed.
//
// An empty encoded hash stands for a user that does not exist: password
// is checked against a dummy hash and false returned, so that an unknown
// username costs the same time as a wrong password and the answer time
// does not tell which usernames exist.
func CheckPassword(encoded, password string) (bool, error) {
	if encoded == "" {
		_, err := CheckPassword(dummyHash(), password)
		return false, err
	}
	p, salt, want, err := decodeArgonHash(encoded)
	if err != nil {
		return false, err
	}
	got := argonKey(password, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func decodeArgonHash(encoded string) (p argoncost.Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("password hash: unsupported version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errors.New("password hash: bad parameters")
	}
	// A corrupt or planted hash must not make one login take the machine.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 10 || p.Threads < 1 || p.Threads > 16 {
		return p, nil, nil, errors.New("password hash: parameters out of range")
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("password hash: bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("password hash: bad key")
	}
	p.KeyLen = uint32(len(key))
	return p, salt, key, nil
}

// dummyHash is the hash an unknown user's login is checked against. It is
// made once per cost, at the current cost.
func dummyHash() string {
	p := *argoncost.Current.Load()
	dummies.mu.Lock()
	defer dummies.mu.Unlock()
	if h, ok := dummies.m[p]; ok {
		return h
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	h, err := HashPassword(base64.RawURLEncoding.EncodeToString(b))
	if err != nil {
		panic(err)
	}
	dummies.m[p] = h
	return h
}

var dummies = struct {
	mu sync.Mutex
	m  map[argoncost.Params]string
}{m: map[argoncost.Params]string{}}
