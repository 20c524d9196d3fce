package mfa

import (
	"slices"
	"strings"
)

// Authentication methods (RFC 8176 §2) Herald records in a session's amr.
// A recovery code counts as "otp" too: it is a one-time password the user
// holds, proving possession of what the set-up gave them (docs/mfa.md).
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
)

// Herald's authentication context classes (OIDC Core §2 acr), advertised
// in acr_values_supported and documented in docs/mfa.md.
const (
	// ACRPassword: signed in with a password only.
	ACRPassword = "urn:herald:acr:pwd"
	// ACRMFA: signed in with a password and a second factor.
	ACRMFA = "urn:herald:acr:mfa"
)

// ACRValuesSupported lists the classes, weakest first.
var ACRValuesSupported = []string{ACRPassword, ACRMFA}

// ACR is the class an authentication with these methods reached: ACRMFA
// when a second factor was used, ACRPassword for a password alone, "" for
// none.
func ACR(amr []string) string {
	switch {
	case slices.Contains(amr, AMROTP):
		return ACRMFA
	case len(amr) > 0:
		return ACRPassword
	}
	return ""
}

// RequiredACR reads an acr_values parameter (space-separated, OIDC Core
// §3.1.2.1) and returns the class a sign-in must reach: the weakest class
// of Herald's that the list accepts, so that "urn:herald:acr:mfa" alone
// demands the second factor and a list naming the password class as well
// does not. Unknown values are ignored; "" when none is Herald's.
func RequiredACR(acrValues string) string {
	required := ""
	for _, v := range strings.Fields(acrValues) {
		i := slices.Index(ACRValuesSupported, v)
		if i >= 0 && (required == "" || i < slices.Index(ACRValuesSupported, required)) {
			required = v
		}
	}
	return required
}

// Satisfies reports whether an authentication with amr meets required.
func Satisfies(amr []string, required string) bool {
	if required != ACRMFA {
		return true
	}
	return slices.Contains(amr, AMROTP)
}
