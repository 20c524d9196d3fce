package templates

import (
	"encoding/base64"
	"html/template"
)

// The second-factor pages (docs/mfa.md). They render through Render like
// every page; templateFor finds them by their pageTemplate method.

// OTPPage asks for the second factor after the password: a TOTP code or a
// recovery code, in the one field named "otp".
type OTPPage struct {
	Branding      Branding
	ActionURL     string
	CSRFToken     string
	AuthRequestID string
	// State is the signed pending sign-in, sent back as "mfa_state".
	State      string
	ClientName string
	Error      string
}

// MFASetupPage shows a new TOTP secret as a QR code and for manual entry,
// and asks for a first code to confirm it. It serves the set-up a sign-in
// forces (AuthRequestID and State set) and the account page's set-up.
type MFASetupPage struct {
	Branding Branding
	// Forced says the tenant requires a second factor (sign-in set-up).
	Forced        bool
	ActionURL     string
	CSRFToken     string
	AuthRequestID string
	State         string
	// QRCodePNG is the otpauth URI as a PNG, shown inline as a data: URL
	// (allowed by the pages' CSP: img-src 'self' data:).
	QRCodePNG []byte
	// Secret is the base32 secret in groups of four; URI the otpauth:// URI.
	Secret string
	URI    string
	// CancelURL, when set, is a link back (the account page).
	CancelURL string
	Error     string
}

// RecoveryCodesPage shows freshly generated recovery codes, once. With
// AuthRequestID set, "Continue" posts to ContinueURL to finish a sign-in;
// otherwise it is a link to ContinueURL.
type RecoveryCodesPage struct {
	Branding      Branding
	Codes         []string
	ContinueURL   string
	CSRFToken     string
	AuthRequestID string
}

// AccountMFAPage is the signed-in user's second-factor page.
type AccountMFAPage struct {
	Branding Branding
	Username string
	// Available is false when the tenant's policy is "off".
	Available bool
	// Enabled: a confirmed TOTP factor exists.
	Enabled bool
	// Required: the tenant requires a second factor for every sign-in.
	Required       bool
	RemainingCodes int
	ConfirmedAt    string
	SetupURL       string
	RemoveURL      string
	RecoveryURL    string
	// CSRF tokens of the three forms.
	SetupCSRF, RemoveCSRF, RecoveryCSRF string
	// AccountURL links back to the account overview.
	AccountURL string
	Message    string
	Error      string
}

var (
	otpTemplate           = mustPage("mfa_otp.html")
	mfaSetupTemplate      = mustPage("mfa_setup.html")
	recoveryCodesTemplate = mustPage("mfa_recovery_codes.html")
	accountMFATemplate    = mustPage("account_mfa.html")
)

func (OTPPage) pageTemplate() *template.Template           { return otpTemplate }
func (MFASetupPage) pageTemplate() *template.Template      { return mfaSetupTemplate }
func (RecoveryCodesPage) pageTemplate() *template.Template { return recoveryCodesTemplate }
func (AccountMFAPage) pageTemplate() *template.Template    { return accountMFATemplate }

// QRCodeURL is the QR code as a data: URL. It is built here from PNG bytes
// Herald rendered, never from input, so it is marked safe for src.
func (p MFASetupPage) QRCodeURL() template.URL {
	if len(p.QRCodePNG) == 0 {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.QRCodePNG))
}

// namedPage is implemented by the page types that carry their template.
type namedPage interface{ pageTemplate() *template.Template }
