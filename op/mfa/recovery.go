package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Recovery codes: RecoveryCodeCount codes of 16 characters from Crockford's
// base32 alphabet (80 bits each, no I, L, O or U to misread), shown as
// four groups of four ("7k2m-9xq4-..."). They are high-entropy, so a fast
// keyed hash is enough to store them (like client secrets); the hash is
// bound to the tenant and user so that a row copied between users is
// useless.
const (
	RecoveryCodeCount = 10
	recoveryCodeLen   = 16
	crockford         = "0123456789abcdefghjkmnpqrstvwxyz"
)

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, formatted for
// display.
func NewRecoveryCodes() ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	raw := make([]byte, recoveryCodeLen)
	for i := range codes {
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("mfa: generate recovery codes: %w", err)
		}
		var b strings.Builder
		for j, c := range raw {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(crockford[c&31]) // 256 is a multiple of 32: uniform
		}
		codes[i] = b.String()
	}
	return codes, nil
}

// NormalizeRecoveryCode is how a typed recovery code is compared: case
// folded, separators and spaces dropped, and the letters Crockford's
// alphabet leaves out read as the digits they resemble. "" if s cannot be
// a recovery code.
func NormalizeRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return ""
		}
		b.WriteRune(r)
		if b.Len() > recoveryCodeLen {
			return ""
		}
	}
	if b.Len() != recoveryCodeLen {
		return ""
	}
	return b.String()
}

// IsRecoveryCode reports whether s could be a recovery code.
func IsRecoveryCode(s string) bool { return NormalizeRecoveryCode(s) != "" }

// HashRecoveryCode is the stored form of code for the user: hex
// HMAC-SHA-256 keyed by a fixed label over the tenant, the user and the
// normalised code. "" if code is malformed.
func HashRecoveryCode(tenant, userID, code string) string {
	n := NormalizeRecoveryCode(code)
	if n == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte("herald-recovery-code-v1"))
	for _, p := range []string{tenant, userID, n} {
		m.Write(binary.AppendUvarint(nil, uint64(len(p))))
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// HashRecoveryCodes hashes every code of a fresh set.
func HashRecoveryCodes(tenant, userID string, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = HashRecoveryCode(tenant, userID, c)
	}
	return out
}
