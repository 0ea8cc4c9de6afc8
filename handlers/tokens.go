package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"tenken/checklist"
)

// Access tokens are JWTs signed with Ed25519 (alg "EdDSA"), and only that
// algorithm is accepted: pinning one asymmetric algorithm closes "alg:
// none" and the HS256-with-the-public-key confusion, and Ed25519 has
// small keys, fast verification and deterministic signatures (no nonce to
// get wrong, unlike ECDSA), with no parameters to choose (unlike RSA).
const (
	accessTokenAlg  = "EdDSA"
	accessTokenType = "at+jwt" // RFC 9068: an access token, not some other JWT
	clockLeeway     = 30 * time.Second
	maxTokenLength  = 4096
)

// accessClaims are the claims of an access token. They carry what
// authorization needs, so a request is authorized without the database.
type accessClaims struct {
	jwt.RegisteredClaims
	Username    string         `json:"preferred_username"`
	Role        checklist.Role `json:"role"`
	FacilityIDs []string       `json:"facility_ids,omitempty"`
}

// tokenIssuer signs and verifies access tokens.
type tokenIssuer struct {
	keys     *KeySet
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

func newTokenIssuer(cfg Config) *tokenIssuer {
	return &tokenIssuer{
		keys: cfg.Keys, issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.AccessTTL, now: cfg.Now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{accessTokenAlg}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(clockLeeway),
			jwt.WithTimeFunc(cfg.Now),
			jwt.WithStrictDecoding(),
		),
	}
}

// issue returns a signed access token for u, issued now.
func (ti *tokenIssuer) issue(u checklist.User) (string, error) {
	token, _, err := ti.issueAt(u, ti.now(), uuid.NewString())
	return token, err
}

// issueAt returns a signed access token for u issued at iat (to the
// second) with the id jti, and its expiry. The same arguments give the
// same token for as long as the signing key and u's claims are the same:
// Ed25519 signatures are deterministic, which is how a refresh replayed
// within the grace period returns the very access token it returned first.
func (ti *tokenIssuer) issueAt(u checklist.User, iat time.Time, jti string) (string, time.Time, error) {
	now := iat.Truncate(time.Second)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    ti.issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{ti.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ti.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Username:    u.Username,
		Role:        u.Role,
		FacilityIDs: u.FacilityIDs,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = ti.keys.signer.ID
	tok.Header["typ"] = accessTokenType
	signed, err := tok.SignedString(ti.keys.signer.Private)
	return signed, claims.ExpiresAt.Time, err
}

// verify checks an access token: the pinned algorithm, a known kid, the
// signature, iss, aud, exp and iat (both required), and the claims tenken
// needs. The error says why, for the logs only.
func (ti *tokenIssuer) verify(raw string) (Principal, error) {
	if len(raw) > maxTokenLength {
		return Principal{}, errors.New("token too long")
	}
	var claims accessClaims
	_, err := ti.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
			return nil, fmt.Errorf("typ %q", typ)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		key, ok := ti.keys.publicKey(kid)
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return key, nil
	})
	if err != nil {
		return Principal{}, err
	}
	switch {
	case claims.IssuedAt == nil:
		return Principal{}, errors.New("no iat")
	case claims.Subject == "":
		return Principal{}, errors.New("no sub")
	case !claims.Role.Valid():
		return Principal{}, fmt.Errorf("role %q", claims.Role)
	}
	return Principal{
		UserID: claims.Subject, Username: claims.Username, Role: claims.Role, Facilities: claims.FacilityIDs,
		IssuedAt: claims.IssuedAt.Time,
	}, nil
}

// newRefreshToken returns a fresh refresh token: 32 random bytes,
// base64url, and the hash under which it is stored.
func newRefreshToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

// newRefreshGrant returns the random secret a refresh records with its
// use: with the presented token it derives the successor
// (deriveRefreshToken).
func newRefreshGrant() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// deriveRefreshToken returns the successor of the refresh token presented
// in a refresh whose use recorded grant, and the successor's hash. It is
// HMAC-SHA256 keyed with the presented token, so that the successor need
// not be stored to be returned again to a retry within the grace period:
// the retry presents the same token, reads the same grant, derives the
// same successor. Neither input alone gives it: the database keeps only
// the presented token's hash, and the grant never leaves the database.
// It has the shape of newRefreshToken's tokens (32 bytes, base64url).
func deriveRefreshToken(presented, grant string) (token, hash string) {
	mac := hmac.New(sha256.New, []byte(presented))
	mac.Write([]byte("tenken refresh successor v1\x00"))
	mac.Write([]byte(grant))
	token = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return token, hashRefreshToken(token)
}

// hashRefreshToken is the stored form of a refresh token. A plain SHA-256
// suffices: the token is 256 random bits, nothing to guess.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
