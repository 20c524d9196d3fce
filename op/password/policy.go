package password

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLength is the longest password accepted, in bytes. Longer input is
// refused before any hashing (a 1 MB password would cost argon2id's
// pre-hash real CPU). 1024 bytes leaves room for long passphrases in any
// script; ASVS V2.1.2 asks for at least 64 characters.
const MaxLength = 1024

// DefaultMinLength is the minimum length in characters (ASVS V2.1.1).
const DefaultMinLength = 12

// Policy rules, the Rule of a PolicyError.
const (
	RuleMinLength = "min_length"
	RuleMaxLength = "max_length"
	RuleEncoding  = "encoding"
	RuleCommon    = "common"
)

// PolicyError is a password rejected by policy. Message is meant for the
// end user and names the rule that was broken.
type PolicyError struct {
	Rule    string
	Message string
}

func (e *PolicyError) Error() string { return e.Message }

// ErrTooLong: the password is longer than MaxLength bytes. Hash, Verify and
// CheckPolicy all return it (compare with errors.Is).
var ErrTooLong error = &PolicyError{
	Rule:    RuleMaxLength,
	Message: fmt.Sprintf("Password is too long: it may be at most %d bytes.", MaxLength),
}

//go:embed common-passwords.txt
var commonPasswordsFile string

// commonPasswords is the embedded list, lower-cased.
var commonPasswords = parseCommonPasswords(commonPasswordsFile)

func parseCommonPasswords(file string) map[string]struct{} {
	set := make(map[string]struct{})
	sc := bufio.NewScanner(strings.NewReader(file))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
}

// CheckPolicy checks a new password (ASVS V2.1): at least minLength
// characters (Unicode code points; minLength <= 0 means DefaultMinLength), at
// most MaxLength bytes, valid UTF-8, and not one of the most common passwords
// (case-insensitive). There are no composition rules (V2.1.9) and nothing is
// truncated or normalised: every character counts (V2.1.4). The error is a
// *PolicyError whose message can be shown to the user.
func CheckPolicy(password string, minLength int) error {
	if minLength <= 0 {
		minLength = DefaultMinLength
	}
	minLength = max(minLength, AbsoluteMinLength)
	if len(password) > MaxLength {
		return ErrTooLong
	}
	if !utf8.ValidString(password) {
		return &PolicyError{Rule: RuleEncoding, Message: "Password contains invalid characters (it must be UTF-8 text)."}
	}
	if n := utf8.RuneCountInString(password); n < minLength {
		return &PolicyError{
			Rule:    RuleMinLength,
			Message: fmt.Sprintf("Password is too short: use at least %d characters.", minLength),
		}
	}
	if _, ok := commonPasswords[strings.ToLower(password)]; ok {
		return &PolicyError{Rule: RuleCommon, Message: "Password is too common: choose one that is harder to guess."}
	}
	return nil
}
