package op

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestVerifyPKCE: RFC 7636 §4.1 (verifier: 43-128 unreserved characters),
// §4.6 (S256 comparison); Herald accepts only S256 (RFC 9700 §2.1.1), so
// a verifier sent in place of its plain challenge must fail.
func TestVerifyPKCE(t *testing.T) {
	verifier := strings.Repeat("a1B2-._~", 6)[:43]
	longest := strings.Repeat("Z", 128)
	for _, tc := range []struct {
		name                string
		challenge, verifier string
		wantErr             bool
	}{
		{"no PKCE at all", "", "", false},
		{"S256 match", s256(verifier), verifier, false},
		{"S256 match, 128 characters", s256(longest), longest, false},
		{"verifier without challenge", "", verifier, true},
		{"challenge without verifier", s256(verifier), "", true},
		{"wrong verifier", s256(verifier), verifier[:42] + "b", true},
		{"plain: verifier equals challenge", verifier, verifier, true},
		{"plain: challenge of the S256 value", s256(verifier), s256(verifier), true},
		{"too short (42)", s256(verifier[:42]), verifier[:42], true},
		{"too long (129)", s256(longest + "Z"), longest + "Z", true},
		{"charset: plus", s256(verifier[:42] + "+"), verifier[:42] + "+", true},
		{"charset: slash", s256(verifier[:42] + "/"), verifier[:42] + "/", true},
		{"charset: space", s256(verifier[:42] + " "), verifier[:42] + " ", true},
		{"charset: padding", s256(verifier[:42] + "="), verifier[:42] + "=", true},
		{"charset: non-ASCII", s256(verifier[:41] + "é"), verifier[:41] + "é", true},
		{"challenge case differs", strings.ToUpper(s256(verifier)), verifier, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyPKCE(tc.challenge, tc.verifier)
			if (err != nil) != tc.wantErr {
				t.Fatalf("verifyPKCE = %v, want error: %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			var oe *oidc.Error
			if !errors.As(err, &oe) || oe.ErrorType != oidc.InvalidGrant {
				t.Errorf("error = %v, want invalid_grant (RFC 7636 §4.6)", err)
			}
		})
	}
}
