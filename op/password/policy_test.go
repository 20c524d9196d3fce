package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPolicy(t *testing.T) {
	tests := []struct {
		name      string
		password  string
		minLength int
		wantRule  string // "" = accepted
	}{
		{"long passphrase", "correct horse battery", 12, ""},
		{"exactly 12", "k7#pQ2!vZx9m", 12, ""},
		{"11 characters", "k7#pQ2!vZx9", 12, RuleMinLength},
		{"empty", "", 12, RuleMinLength},
		{"default minimum when 0", "k7#pQ2!vZx9", 0, RuleMinLength},
		{"lower minimum", "k7#pQ2!v", 8, ""},
		{"length counts characters not bytes", "ключ-ключ-кл", 12, ""}, // 12 runes, 22 bytes
		{"11 multibyte characters", "ключ-ключ-к", 12, RuleMinLength},
		{"emoji", "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑", 12, ""},
		{"spaces count, no trimming", "            ", 12, ""},
		{"maximum bytes", strings.Repeat("a1", MaxLength/2), 12, ""},
		{"one byte too long", strings.Repeat("a", MaxLength+1), 12, RuleMaxLength},
		{"invalid UTF-8", "abcdefghijk\xff", 12, RuleEncoding},
		{"common", "password1234", 12, RuleCommon},
		{"common, other case", "PassWord1234", 12, RuleCommon},
		{"common digits", "123456789012", 12, RuleCommon},
		{"minimum never below 8", "k7#pQ2!", 6, RuleMinLength},
		{"common plus a character is fine", "password1234!", 12, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPolicy(tc.password, tc.minLength)
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("CheckPolicy = %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Rule != tc.wantRule {
				t.Fatalf("CheckPolicy = %v, want a PolicyError for rule %s", err, tc.wantRule)
			}
			if pe.Message == "" || strings.Contains(pe.Message, tc.password) && tc.password != "" {
				t.Errorf("message %q is empty or echoes the password", pe.Message)
			}
		})
	}
	if err := CheckPolicy(strings.Repeat("a", MaxLength+1), 12); !errors.Is(err, ErrTooLong) {
		t.Errorf("too long: %v, want errors.Is ErrTooLong", err)
	}
	if err := CheckPolicy("abcdefghijk", 12); !strings.Contains(err.Error(), "12") {
		t.Errorf("min-length message %q does not name the minimum", err)
	}
}

func TestCommonPasswordList(t *testing.T) {
	if n := len(commonPasswords); n < 90 {
		t.Fatalf("embedded list has %d entries, want about 100", n)
	}
	for pw := range commonPasswords {
		if pw != strings.ToLower(pw) || strings.HasPrefix(pw, "#") || strings.TrimSpace(pw) != pw {
			t.Errorf("list entry %q is not a normalised password", pw)
		}
	}
}

// TestBreachedListSize: the refused list is tens of thousands of common
// passwords (zxcvbn's frequency list plus the embedded one), not the
// hundred-entry list of before (issue 10).
func TestBreachedListSize(t *testing.T) {
	if n := BreachedListSize(); n < 20000 {
		t.Fatalf("breached-password list has %d entries, want tens of thousands", n)
	}
}
