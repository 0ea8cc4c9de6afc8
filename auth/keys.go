package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// SigningKey is one Ed25519 key of the access-token key set. Private is
// nil for a key kept only to verify tokens it signed before it was
// retired.
type SigningKey struct {
	ID      string // the JWT kid; KeyID(Public) unless set
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// KeyID is the key id of a public key: the first 12 bytes of its SHA-256,
// base64url. It is derived, not chosen, so the same key has the same id
// on every instance.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// GenerateSigningKey returns a new random key.
func GenerateSigningKey() (SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate signing key: %w", err)
	}
	return SigningKey{ID: KeyID(pub), Private: priv, Public: pub}, nil
}

// ParseKeyPEM reads one key from PEM: a PKCS #8 "PRIVATE KEY" (a key that
// may sign) or a PKIX "PUBLIC KEY" (a retired key that only verifies).
// Both must be Ed25519.
func ParseKeyPEM(data []byte) (SigningKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return SigningKey{}, errors.New("no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return SigningKey{}, fmt.Errorf("private key: %w", err)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return SigningKey{}, fmt.Errorf("private key is %T, want Ed25519", k)
		}
		pub := priv.Public().(ed25519.PublicKey)
		return SigningKey{ID: KeyID(pub), Private: priv, Public: pub}, nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return SigningKey{}, fmt.Errorf("public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return SigningKey{}, fmt.Errorf("public key is %T, want Ed25519", k)
		}
		return SigningKey{ID: KeyID(pub), Public: pub}, nil
	}
	return SigningKey{}, fmt.Errorf("PEM block %q, want PRIVATE KEY or PUBLIC KEY", block.Type)
}

// PrivatePEM encodes the private key as PKCS #8 PEM.
func (k SigningKey) PrivatePEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// KeySet holds the keys that verify access tokens and the one that signs
// new ones. Rotation: add a new key last and restart; tokens signed by the
// old key keep verifying while it stays in the set, which needs to be no
// longer than the access-token lifetime.
type KeySet struct {
	signer SigningKey
	public map[string]ed25519.PublicKey
}

// NewKeySet builds a key set from keys, oldest first: every key verifies,
// and the last key that has a private part signs.
func NewKeySet(keys ...SigningKey) (*KeySet, error) {
	ks := &KeySet{public: map[string]ed25519.PublicKey{}}
	for _, k := range keys {
		if len(k.Public) != ed25519.PublicKeySize {
			return nil, errors.New("key set: a key has no Ed25519 public key")
		}
		if k.Private != nil && !k.Public.Equal(k.Private.Public()) {
			return nil, fmt.Errorf("key set: key %s: private and public keys do not match", k.ID)
		}
		if k.ID == "" {
			k.ID = KeyID(k.Public)
		}
		if _, dup := ks.public[k.ID]; dup {
			return nil, fmt.Errorf("key set: key id %s appears twice", k.ID)
		}
		ks.public[k.ID] = k.Public
		if k.Private != nil {
			ks.signer = k
		}
	}
	if ks.signer.Private == nil {
		return nil, errors.New("key set: no private key to sign with")
	}
	return ks, nil
}

// SignerID is the id of the key that signs new tokens.
func (ks *KeySet) SignerID() string { return ks.signer.ID }

// publicKey returns the verifying key with id.
func (ks *KeySet) publicKey(id string) (ed25519.PublicKey, bool) {
	k, ok := ks.public[id]
	return k, ok
}
