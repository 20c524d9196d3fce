package password

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/frequency"
)

// Strength estimates use zxcvbn (Wheeler, USENIX Security 2016), a model
// of how cracking tools guess: dictionaries, names, keyboard walks,
// repeats, sequences, dates and l33t substitutions. Score 0-4 is
// log10(guesses) bucketed at 3, 6, 8 and 10.

// Bounds of a minimum score.
const (
	// DefaultMinScore: 3, "safely unguessable: moderate protection from an
	// offline slow-hash scenario" (10^8 guesses or more).
	DefaultMinScore = 3
	MaxScore        = 4
)

// RuleStrength is the Rule of a password refused by its zxcvbn score.
const RuleStrength = "strength"

// AbsoluteMinLength is the floor of every minimum length: below 8
// characters passwords are guessable online (NIST SP 800-63B §5.1.1.2).
const AbsoluteMinLength = 8

// maxScoredRunes bounds the text zxcvbn looks at (its matching grows faster
// than linearly); beyond it a password is a passphrase and scores on its
// prefix alone.
const maxScoredRunes = 100

// breached is the set of common passwords from breaches: the 30,000-entry
// "passwords" frequency list zxcvbn embeds (itself drawn from leaked
// password corpora) plus Herald's own common-passwords.txt. It reuses
// zxcvbn's strings, so it adds only the map to the binary's footprint.
var breached = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	set := make(map[string]struct{}, len(list)+len(commonPasswords))
	for _, p := range list {
		set[strings.ToLower(p)] = struct{}{}
	}
	for p := range commonPasswords {
		set[p] = struct{}{}
	}
	return set
})

// BreachedListSize is how many common passwords CheckPassword refuses.
func BreachedListSize() int { return len(breached()) }

// Policy is a tenant's password policy.
type Policy struct {
	// MinLength in characters; ≤ 0 means DefaultMinLength, and it is never
	// below AbsoluteMinLength.
	MinLength int
	// MinScore is the lowest zxcvbn score accepted (0-4); < 0 means no
	// strength check, 0 means DefaultMinScore.
	MinScore int
}

// CheckPassword checks a new password against p (ASVS V2.1): length
// bounds, valid UTF-8, not a common breached password (V2.1.7,
// case-insensitive) and a zxcvbn score of at least p.MinScore, with
// userInputs (username, e-mail, names) as words an attacker would try
// first. The error is a *PolicyError whose message says why.
func CheckPassword(password string, p Policy, userInputs ...string) error {
	if err := CheckPolicy(password, p.MinLength); err != nil {
		return err
	}
	if _, ok := breached()[strings.ToLower(password)]; ok {
		return &PolicyError{Rule: RuleCommon, Message: "Password is too common: it appears in lists of passwords leaked in breaches. Choose another."}
	}
	minScore := p.MinScore
	if minScore == 0 {
		minScore = DefaultMinScore
	}
	if minScore < 0 {
		return nil
	}
	scored := password
	if utf8.RuneCountInString(scored) > maxScoredRunes {
		scored = string([]rune(scored)[:maxScoredRunes])
	}
	var inputs []string
	for _, in := range userInputs {
		if in = strings.ToLower(strings.TrimSpace(in)); in != "" {
			inputs = append(inputs, in)
			if local, _, ok := strings.Cut(in, "@"); ok && local != "" {
				inputs = append(inputs, local)
			}
		}
	}
	r := zxcvbn.PasswordStrength(scored, inputs)
	if r.Score >= min(minScore, MaxScore) {
		return nil
	}
	return &PolicyError{Rule: RuleStrength, Message: fmt.Sprintf(
		"Password is too easy to guess (strength %d of 4, at least %d required)%s. Use a longer passphrase of unrelated words.",
		r.Score, minScore, weakness(r))}
}

// weakness names the part of the estimate that made the password weak.
func weakness(r zxcvbn.Result) string {
	for _, m := range r.Sequence {
		switch m.Pattern {
		case "repeat":
			return ": it repeats characters or words"
		case "sequence":
			return ": it contains a sequence such as abc or 123"
		case "spatial":
			return ": it contains a keyboard pattern"
		case "date", "regex":
			return ": it contains a date or year"
		case "dictionary":
			if m.DictionaryName == "user_inputs" {
				return ": it contains your username, name or e-mail"
			}
			return ": it is built from common words, names or passwords"
		}
	}
	return ""
}
