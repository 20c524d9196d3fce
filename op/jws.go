package op

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/herald-idp/herald/keys"
)

// jwsSigner makes compact JWS (RFC 7515 §7.1) with one key and one typ:
// the protected header is encoded once, so a token costs the claims'
// encoding and one signature. go-jose, which signed before, rebuilt and
// re-encoded the header through maps and its own reflection-based JSON at
// every signature (about a tenth of a client_credentials request with an
// EdDSA key). Only the three algorithms Herald's keys have are supported.
type jwsSigner struct {
	prefix string // base64url(header) + "."
	key    *keys.Key
}

// newJWSSigner returns the signer of key k (which must hold its private
// key) for tokens of type typ.
func newJWSSigner(k *keys.Key, typ string) (*jwsSigner, error) {
	switch k.Algorithm {
	case keys.RS256:
		_, ok := k.Private.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("jws: key %s: RS256 needs an RSA private key", k.ID)
		}
	case keys.ES256:
		p, ok := k.Private.(*ecdsa.PrivateKey)
		if !ok || p.Curve.Params().BitSize != 256 {
			return nil, fmt.Errorf("jws: key %s: ES256 needs a P-256 private key", k.ID)
		}
	case keys.EdDSA:
		if _, ok := k.Private.(ed25519.PrivateKey); !ok {
			return nil, fmt.Errorf("jws: key %s: EdDSA needs an Ed25519 private key", k.ID)
		}
	default:
		return nil, fmt.Errorf("jws: key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.Algorithm, k.ID, typ})
	if err != nil {
		return nil, err
	}
	return &jwsSigner{prefix: base64.RawURLEncoding.EncodeToString(header) + ".", key: k}, nil
}

// sign returns the compact serialisation of payload signed by s.
func (s *jwsSigner) sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(s.prefix)+enc.EncodedLen(len(payload))+1+enc.EncodedLen(512))
	buf = append(buf, s.prefix...)
	buf = enc.AppendEncode(buf, payload)
	sig, err := s.signature(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// signature signs the JWS signing input (RFC 7518 §3).
func (s *jwsSigner) signature(input []byte) ([]byte, error) {
	switch priv := s.key.Private.(type) {
	case *rsa.PrivateKey:
		sum := sha256.Sum256(input)
		return rsa.SignPKCS1v15(nil, priv, crypto.SHA256, sum[:])
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256(input)
		r, ss, err := ecdsa.Sign(rand.Reader, priv, sum[:])
		if err != nil {
			return nil, err
		}
		// R and S as 32-byte big-endian integers (RFC 7518 §3.4).
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, input), nil
	}
	return nil, fmt.Errorf("jws: key %s: unsupported private key", s.key.ID)
}
