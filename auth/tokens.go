package auth

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
	lru "github.com/hashicorp/golang-lru/v2"

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

// TokenConfig are the settings of access tokens. Zero fields take the
// defaults.
type TokenConfig struct {
	// Keys sign (the newest) and verify (all) access tokens. nil means a
	// fresh key held in memory only: tokens then die with the process,
	// which suits tests but not a server.
	Keys *KeySet
	// Issuer and Audience are the iss and aud of access tokens, written
	// when issuing and required when verifying. Defaults DefaultIssuer
	// and DefaultAudience.
	Issuer   string
	Audience string
	// TTL is the life of an access token, DefaultAccessTTL by default.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Tokens signs and verifies access tokens.
type Tokens struct {
	keys     *KeySet
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	verified *lru.Cache[string, verifiedToken] // tokencache.go
}

// NewTokens returns the signer and verifier of access tokens for cfg.
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultAccessTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Keys == nil {
		k, err := GenerateSigningKey()
		if err != nil {
			return nil, err
		}
		if cfg.Keys, err = NewKeySet(k); err != nil {
			return nil, err
		}
	}
	verified, err := lru.New[string, verifiedToken](tokenCacheMax)
	if err != nil {
		return nil, err
	}
	return &Tokens{
		keys: cfg.Keys, issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.TTL, now: cfg.Now,
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
		verified: verified,
	}, nil
}

// IssueAt returns a signed access token for u issued at iat (to the
// second) with the id jti, and its expiry. The same arguments give the
// same token for as long as the signing key and u's claims are the same:
// Ed25519 signatures are deterministic, which is how a refresh replayed
// within the grace period returns the very access token it returned first.
func (tk *Tokens) IssueAt(u checklist.User, iat time.Time, jti string) (string, time.Time, error) {
	now := iat.Truncate(time.Second)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tk.issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{tk.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(tk.ttl)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Username:    u.Username,
		Role:        u.Role,
		FacilityIDs: u.FacilityIDs,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = tk.keys.signer.ID
	tok.Header["typ"] = accessTokenType
	signed, err := tok.SignedString(tk.keys.signer.Private)
	return signed, claims.ExpiresAt.Time, err
}

// verify checks an access token, without the cache (see Verify): the pinned algorithm, a known kid, the
// signature, iss, aud, exp and iat (both required), and the claims tenken
// needs. The error says why, for the logs only.
func (tk *Tokens) verify(raw string) (Principal, error) {
	if len(raw) > maxTokenLength {
		return Principal{}, errors.New("token too long")
	}
	var claims accessClaims
	_, err := tk.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
			return nil, fmt.Errorf("typ %q", typ)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		key, ok := tk.keys.publicKey(kid)
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

// NewRefreshToken returns a fresh refresh token: 32 random bytes,
// base64url, and the hash under which it is stored.
func NewRefreshToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token), nil
}

// NewRefreshGrant returns the random secret a refresh records with its
// use: with the presented token it derives the successor
// (DeriveRefreshToken).
func NewRefreshGrant() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DeriveRefreshToken returns the successor of the refresh token presented
// in a refresh whose use recorded grant, and the successor's hash. It is
// HMAC-SHA256 keyed with the presented token, so that the successor need
// not be stored to be returned again to a retry within the grace period:
// the retry presents the same token, reads the same grant, derives the
// same successor. Neither input alone gives it: the database keeps only
// the presented token's hash, and the grant never leaves the database.
// It has the shape of NewRefreshToken's tokens (32 bytes, base64url).
func DeriveRefreshToken(presented, grant string) (token, hash string) {
	mac := hmac.New(sha256.New, []byte(presented))
	mac.Write([]byte("tenken refresh successor v1\x00"))
	mac.Write([]byte(grant))
	token = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return token, HashRefreshToken(token)
}

// HashRefreshToken is the stored form of a refresh token. A plain SHA-256
// suffices: the token is 256 random bits, nothing to guess.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
