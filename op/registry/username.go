package registry

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// Usernames follow PRECIS (RFC 8265 §3.3, the UsernameCaseMapped profile):
// width-mapped, lower-cased, NFC, and drawn from the IdentifierClass, which
// leaves out spaces, control and format characters (zero-width spaces,
// bidi overrides). On top of it Herald refuses names that mix scripts
// (Latin "a" next to Cyrillic "а"), the look-alikes PRECIS lets through.

// usernameProfile is the profile every username is enforced with.
var usernameProfile = precis.UsernameCaseMapped

// NormalizeUsername is the form usernames are stored and looked up in: the
// PRECIS UsernameCaseMapped form of the trimmed input. Input PRECIS refuses
// cannot name a new account; it is looked up in the older form (NFKC, lower
// case) so that accounts created before PRECIS still sign in, and the
// login throttle counts it under that form.
func NormalizeUsername(s string) string {
	s = strings.TrimSpace(s)
	if out, err := usernameProfile.String(s); err == nil {
		return out
	}
	return strings.ToLower(norm.NFKC.String(s))
}

// usernameProblem checks a new username as typed and returns its
// normalised form, or a message for the field "username" saying what is
// wrong with it.
func usernameProblem(raw string) (string, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", "is required"
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Bidi_Control, r):
			return "", fmt.Sprintf("must not contain text-direction control characters (U+%04X)", r)
		case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
			return "", fmt.Sprintf("must not contain invisible characters (U+%04X)", r)
		case unicode.IsSpace(r):
			return "", "must not contain spaces"
		case unicode.IsControl(r):
			return "", "must not contain control characters"
		}
	}
	out, err := usernameProfile.String(s)
	if err != nil {
		return "", "contains characters not allowed in usernames (letters, digits and . _ - @ + are; see RFC 8265)"
	}
	if scripts := letterScripts(out); !scriptsAllowed(scripts) {
		return "", fmt.Sprintf("mixes the scripts %s, which makes look-alike names possible; use one script",
			strings.Join(scripts, " and "))
	}
	return out, ""
}

// letterScripts lists the scripts of s's letters (Common and Inherited
// characters, digits and punctuation belong to none), sorted.
func letterScripts(s string) []string {
	var out []string
	for _, r := range s {
		if !unicode.IsLetter(r) {
			continue
		}
		for name, table := range unicode.Scripts {
			if name == "Common" || name == "Inherited" || !unicode.Is(table, r) {
				continue
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
			break
		}
	}
	slices.Sort(out)
	return out
}

// scriptCombinations are the mixes that writing systems use every day
// (Unicode TS #39 §5.1, "Highly Restrictive"): Japanese, Korean and
// Chinese with Latin.
var scriptCombinations = [][]string{
	{"Han", "Hiragana", "Katakana", "Latin"},
	{"Han", "Hangul", "Latin"},
	{"Bopomofo", "Han", "Latin"},
}

func scriptsAllowed(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, combo := range scriptCombinations {
		if !slices.ContainsFunc(scripts, func(s string) bool { return !slices.Contains(combo, s) }) {
			return true
		}
	}
	return false
}
