package mfa

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: the defaults every authenticator app supports (RFC 6238
// §4: 30-second steps; SHA-1 and 6 digits as Google Authenticator
// requires). The secret is 160 bits, the HMAC-SHA-1 block RFC 4226 §4
// recommends.
const (
	Period     = 30 * time.Second
	Digits     = 6
	SecretSize = 20
	// Skew is how many steps before and after the current one are
	// accepted (RFC 6238 §5.2: at most one step of network delay and clock
	// drift).
	Skew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random TOTP secret.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("mfa: generate secret: %w", err)
	}
	return s, nil
}

// Key is what an authenticator app needs: the secret for manual entry and
// the otpauth:// URI (the QR code's content).
type Key struct {
	key *otp.Key
}

// NewKey describes secret for an authenticator app: issuer is shown as the
// account's provider (the tenant's display name), account as its name.
func NewKey(secret []byte, issuer, account string) (*Key, error) {
	if len(secret) == 0 || issuer == "" || account == "" {
		return nil, fmt.Errorf("mfa: key needs a secret, an issuer and an account name")
	}
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      uint(Period / time.Second),
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: key: %w", err)
	}
	return &Key{key: k}, nil
}

// Secret is the secret in base32 without padding, as typed into an app.
func (k *Key) Secret() string { return k.key.Secret() }

// SecretGroups is Secret in groups of four characters, easier to copy by
// hand; apps ignore the spaces.
func (k *Key) SecretGroups() string {
	s := k.Secret()
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// URI is the otpauth://totp/... URI (Key Uri Format).
func (k *Key) URI() string { return k.key.URL() }

// QRCodePNG renders the URI as a QR code PNG of size×size pixels, in
// process (no external service ever sees the secret).
func (k *Key) QRCodePNG(size int) ([]byte, error) {
	img, err := k.key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mfa: QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// Step is the TOTP time step of t (RFC 6238 §4.2: T = floor(unix / X)).
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// Code is the TOTP code of secret for time step step.
func Code(secret []byte, step int64) (string, error) {
	return totp.GenerateCodeCustom(b32.EncodeToString(secret), time.Unix(step*int64(Period/time.Second), 0),
		totp.ValidateOpts{Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// NormalizeCode strips the spaces and dashes people type or paste into a
// code ("123 456").
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// IsTOTPCode reports whether s (normalised) looks like a TOTP code: exactly
// Digits ASCII digits.
func IsTOTPCode(s string) bool {
	if len(s) != Digits {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Verify checks code against the steps around now (±Skew) and returns the
// latest step it matches. Every candidate is computed and compared in
// constant time, so the time taken does not tell which step matched. The
// caller must still refuse a step at or before the last one used
// (storage.SecondFactors.UseTOTPStep): a code is good once.
func Verify(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = NormalizeCode(code)
	if !IsTOTPCode(code) || len(secret) == 0 {
		return 0, false
	}
	cur := Step(now)
	for s := cur - Skew; s <= cur+Skew; s++ {
		want, err := Code(secret, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}
