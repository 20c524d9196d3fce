package op

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// Herald checks its own JWT access tokens at userinfo and introspection
// (issue 9's W7: one verification and little else). The library's verifier
// parses the token twice, decodes its claims twice (into the struct and
// into a map) and rebuilds the key set per call, which cost about as much
// CPU as the RS256 verification itself. This verifier accepts exactly what
// Herald mints (tokens.go): a compact JWS whose header names, by kid, one
// of the tenant's published keys and that key's own algorithm, with no
// crit header; payload iss = the request's issuer and exp in the future.
// Anything else is errInactive.

// jwsHeader is the part of a JWS header the verifier reads.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// accessTokenPayload is what checkAccessToken needs of the claims of an
// at+jwt (RFC 9068 §2.2). Its claim types decode exactly what Herald mints
// (tokens.go) without the library's detour through interface values (an
// `any` per claim, decoded again): aud a string or an array of strings,
// exp and iat JSON numbers, scope a space-delimited string.
type accessTokenPayload struct {
	Issuer     string      `json:"iss"`
	Subject    string      `json:"sub"`
	Audience   audience    `json:"aud"`
	Expiration numericDate `json:"exp"`
	IssuedAt   numericDate `json:"iat"`
	ClientID   string      `json:"client_id"`
	JWTID      string      `json:"jti"`
	Scopes     scopeClaim  `json:"scope"`
}

// audience is the aud claim: one string or an array of strings (RFC 7519
// §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	if s, ok := plainJSONString(b); ok {
		*a = audience{s}
		return nil
	}
	if list, ok := plainStringArray(b); ok {
		*a = list
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = audience{s}
		return nil
	}
	if string(b) == "null" {
		*a = nil
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// numericDate is a NumericDate claim (RFC 7519 §2): seconds since the
// epoch as a JSON number, fractions allowed (and dropped, as the library
// does).
type numericDate int64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*d = numericDate(f)
	return nil
}

// AsTime is the instant, or the zero time for 0 (absent), like oidc.Time.
func (d numericDate) AsTime() time.Time { return oidc.Time(d).AsTime() }

// scopeClaim is the scope claim: space-delimited (RFC 9068 §2.2.3, RFC
// 8693 §4.2); null reads as one empty scope, as the library reads it.
type scopeClaim []string

func (sc *scopeClaim) UnmarshalJSON(b []byte) error {
	s, ok := plainJSONString(b)
	if !ok {
		if string(b) == "null" {
			*sc = scopeClaim{""}
			return nil
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	*sc = strings.Split(s, " ")
	return nil
}

// plainJSONString returns the value of the JSON string literal b when it
// has no escapes. b comes from the decoder, which has validated it: the
// bytes between the quotes are the string.
func plainJSONString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' || bytes.IndexByte(b, '\\') >= 0 {
		return "", false
	}
	return string(b[1 : len(b)-1]), true
}

// decodeJWSHeader is json.Unmarshal(b, h), faster for plain headers
// (jsonMembers).
func decodeJWSHeader(b []byte, h *jwsHeader) error {
	if jsonMembers(b, func(key, v []byte) bool {
		switch string(key) {
		case "alg":
			return stringMember(v, &h.Alg)
		case "kid":
			return stringMember(v, &h.Kid)
		case "crit":
			h.Crit = v
			return true
		}
		return ignorableKey(key, "alg", "kid", "crit")
	}) {
		return nil
	}
	*h = jwsHeader{}
	return json.Unmarshal(b, h)
}

// decodeAccessTokenPayload is json.Unmarshal(b, c), faster for what Herald
// mints (jsonMembers).
func decodeAccessTokenPayload(b []byte, c *accessTokenPayload) error {
	if jsonMembers(b, func(key, v []byte) bool {
		switch string(key) {
		case "iss":
			return stringMember(v, &c.Issuer)
		case "sub":
			return stringMember(v, &c.Subject)
		case "client_id":
			return stringMember(v, &c.ClientID)
		case "jti":
			return stringMember(v, &c.JWTID)
		case "aud":
			return c.Audience.UnmarshalJSON(v) == nil
		case "exp":
			return c.Expiration.UnmarshalJSON(v) == nil
		case "iat":
			return c.IssuedAt.UnmarshalJSON(v) == nil
		case "scope":
			return c.Scopes.UnmarshalJSON(v) == nil
		}
		return ignorableKey(key, "iss", "sub", "aud", "exp", "iat", "client_id", "jti", "scope")
	}) {
		return nil
	}
	*c = accessTokenPayload{}
	return json.Unmarshal(b, c)
}

// verifyJWTAccessToken verifies token as an access token of tenant t
// issued at issuer. A store error (the tenant's keys unreadable) is
// returned as such; every other failure is errInactive.
func (s *Server) verifyJWTAccessToken(ctx context.Context, t *storage.Tenant, issuer, token string) (*accessTokenPayload, error) {
	h64, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errInactive
	}
	p64, sig64, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig64, ".") {
		return nil, errInactive
	}
	// One buffer for the three decoded parts.
	enc := base64.RawURLEncoding
	buf := make([]byte, enc.DecodedLen(len(h64))+enc.DecodedLen(len(p64))+enc.DecodedLen(len(sig64)))
	hb, buf, err := decodeSegment(h64, buf)
	if err != nil {
		return nil, errInactive
	}
	var hdr jwsHeader
	if err := decodeJWSHeader(hb, &hdr); err != nil || hdr.Kid == "" || len(hdr.Crit) > 0 {
		return nil, errInactive
	}
	sig, buf, err := decodeSegment(sig64, buf)
	if err != nil {
		return nil, errInactive
	}
	key, err := s.keys.PublicKey(ctx, t.Name, hdr.Kid)
	if err != nil {
		return nil, err
	}
	// The header's alg must be the key's own: no algorithm confusion.
	if key == nil || hdr.Alg != key.Algorithm || !verifyJWS(key, []byte(token[:len(h64)+1+len(p64)]), sig) {
		return nil, errInactive
	}
	pb, _, err := decodeSegment(p64, buf)
	if err != nil {
		return nil, errInactive
	}
	var claims accessTokenPayload
	if err := decodeAccessTokenPayload(pb, &claims); err != nil {
		return nil, errInactive
	}
	if claims.Issuer != issuer || !s.now().Before(claims.Expiration.AsTime()) {
		return nil, errInactive
	}
	return &claims, nil
}

// decodeSegment decodes the base64url segment seg into the front of buf,
// returning it and the rest of buf.
func decodeSegment(seg string, buf []byte) (decoded, rest []byte, err error) {
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return nil, nil, err
	}
	return buf[:n:n], buf[n:], nil
}

// verifyJWS checks sig over signingInput with k's key and algorithm.
func verifyJWS(k *keys.Key, signingInput, sig []byte) bool {
	switch k.Algorithm {
	case keys.RS256:
		pub, ok := k.Public.(*rsa.PublicKey)
		if !ok {
			return false
		}
		sum := sha256.Sum256(signingInput)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
	case keys.ES256:
		pub, ok := k.Public.(*ecdsa.PublicKey)
		// RFC 7518 §3.4: R and S as 32-byte big-endian integers.
		if !ok || len(sig) != 64 {
			return false
		}
		sum := sha256.Sum256(signingInput)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, sum[:], r, s)
	case keys.EdDSA:
		pub, ok := k.Public.(ed25519.PublicKey)
		return ok && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, signingInput, sig)
	}
	return false
}
