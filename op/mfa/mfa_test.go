package mfa

import (
	"bytes"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B, SHA-1 seed, truncated to six digits.
func TestCodeRFC6238Vectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	} {
		got, err := Code(secret, Step(time.Unix(tc.unix, 0)))
		if err != nil || got != tc.want {
			t.Errorf("Code(t=%d) = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestVerifyWindowAndStep(t *testing.T) {
	secret, err := NewSecret()
	if err != nil || len(secret) != SecretSize {
		t.Fatalf("NewSecret = %d bytes, %v", len(secret), err)
	}
	now := time.Unix(1_800_000_015, 0)
	cur := Step(now)
	for _, d := range []int64{-1, 0, 1} {
		code, _ := Code(secret, cur+d)
		step, ok := Verify(secret, code, now)
		if !ok || step != cur+d {
			t.Errorf("code of step %+d: Verify = %d, %v; want %d, true", d, step, ok, cur+d)
		}
		// Spaces and dashes people type are ignored.
		if _, ok := Verify(secret, code[:3]+" "+code[3:], now); !ok {
			t.Errorf("code with a space refused")
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		code, _ := Code(secret, cur+d)
		if _, ok := Verify(secret, code, now); ok {
			t.Errorf("code of step %+d accepted outside the ±1 window", d)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦"} {
		if _, ok := Verify(secret, bad, now); ok {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	code, _ := Code(secret, cur)
	if _, ok := Verify(nil, code, now); ok {
		t.Error("Verify without a secret accepted")
	}
	other, _ := NewSecret()
	if _, ok := Verify(other, code, now); ok {
		t.Error("another secret's code accepted (1 in a million: rerun)")
	}
}

func TestKeyURIAndQRCode(t *testing.T) {
	secret, _ := NewSecret()
	k, err := NewKey(secret, "Acme Corp", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(k.URI())
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("URI = %q", k.URI())
	}
	q := u.Query()
	if q.Get("secret") != k.Secret() || q.Get("issuer") != "Acme Corp" || q.Get("digits") != "6" ||
		q.Get("period") != "30" || !strings.EqualFold(q.Get("algorithm"), "sha1") {
		t.Fatalf("URI query = %v", q)
	}
	if !strings.Contains(u.Path, "Acme Corp:alice@example.com") {
		t.Fatalf("URI label = %q", u.Path)
	}
	if got, _ := b32.DecodeString(k.Secret()); !bytes.Equal(got, secret) {
		t.Fatal("Secret() does not encode the secret")
	}
	if strings.ReplaceAll(k.SecretGroups(), " ", "") != k.Secret() {
		t.Fatalf("SecretGroups = %q", k.SecretGroups())
	}
	img, err := k.QRCodePNG(200)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil || decoded.Bounds().Dx() != 200 {
		t.Fatalf("QR PNG: %v, bounds %v", err, decoded.Bounds())
	}
	if _, err := NewKey(secret, "", "alice"); err == nil {
		t.Error("NewKey without issuer accepted")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, err := NewRecoveryCodes()
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("NewRecoveryCodes = %d, %v", len(codes), err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || c[4] != '-' || c[9] != '-' || c[14] != '-' || !IsRecoveryCode(c) {
			t.Fatalf("code %q is not xxxx-xxxx-xxxx-xxxx", c)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[c] = true
	}
	c := codes[0]
	h := HashRecoveryCode("acme", "u1", c)
	if len(h) != 64 || strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
		t.Fatalf("hash = %q", h)
	}
	// Typed differently, the same code.
	for _, typed := range []string{strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), " " + strings.ReplaceAll(c, "-", " ") + " "} {
		if HashRecoveryCode("acme", "u1", typed) != h {
			t.Errorf("%q hashes differently from %q", typed, c)
		}
	}
	// Misread letters.
	if NormalizeRecoveryCode("oooo-iiii-llll-0000") != "0000111111110000" {
		t.Error("o/i/l are not read as 0/1")
	}
	// Bound to the tenant and the user.
	if HashRecoveryCode("acme", "u2", c) == h || HashRecoveryCode("other", "u1", c) == h {
		t.Error("hash not bound to tenant and user")
	}
	for _, bad := range []string{"", "abcd", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrst", "abcd-efgh-jkmn-pqru", "123456", "ääää-bbbb-cccc-dddd"} {
		if IsRecoveryCode(bad) || HashRecoveryCode("acme", "u1", bad) != "" {
			t.Errorf("%q taken for a recovery code", bad)
		}
	}
	if got := HashRecoveryCodes("acme", "u1", codes); len(got) != len(codes) || got[0] != h {
		t.Fatalf("HashRecoveryCodes = %v", got)
	}
}

func TestACR(t *testing.T) {
	for _, tc := range []struct {
		amr  []string
		want string
	}{{nil, ""}, {[]string{"pwd"}, ACRPassword}, {[]string{"pwd", "otp"}, ACRMFA}} {
		if got := ACR(tc.amr); got != tc.want {
			t.Errorf("ACR(%v) = %q, want %q", tc.amr, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"":                         "",
		"urn:other 1 2":            "",
		ACRMFA:                     ACRMFA,
		"urn:other " + ACRMFA:      ACRMFA,
		ACRMFA + " " + ACRPassword: ACRPassword,
		ACRPassword:                ACRPassword,
		"  " + ACRMFA + "  ":       ACRMFA,
		strings.ToUpper(ACRMFA):    "",
		ACRMFA + "x":               "",
	} {
		if got := RequiredACR(in); got != want {
			t.Errorf("RequiredACR(%q) = %q, want %q", in, got, want)
		}
	}
	if Satisfies([]string{"pwd"}, ACRMFA) || !Satisfies([]string{"pwd", "otp"}, ACRMFA) || !Satisfies([]string{"pwd"}, ACRPassword) || !Satisfies([]string{"pwd"}, "") {
		t.Error("Satisfies")
	}
}
