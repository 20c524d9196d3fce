package registry

import (
	"strings"
	"testing"
)

func TestUsernamePRECIS(t *testing.T) {
	tests := []struct {
		raw, want, problem string
	}{
		{"Alice", "alice", ""},
		{"  bob@example.com ", "bob@example.com", ""},
		{"ＡＬＩＣＥ", "alice", ""}, // full width maps to ASCII
		{"josé", "josé", ""},
		{"山田たろう", "山田たろう", ""},
		{"yamada山田", "yamada山田", ""},
		{"иван", "иван", ""},
		{"alice\u200b", "", "invisible"},
		{"ali\u200dce", "", "invisible"},
		{"\u202eecila", "", "text-direction"},
		{"ali\u2066ce", "", "text-direction"},
		{"\u0430lice", "", "mixes the scripts Cyrillic and Latin"}, // Cyrillic а
		{"αlice", "", "mixes the scripts Greek and Latin"},
		{"al ice", "", "spaces"},
		{"", "", "required"},
		{"al\x07ice", "", "control"},
	}
	for _, tc := range tests {
		got, problem := usernameProblem(tc.raw)
		if got != tc.want || (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("usernameProblem(%q) = %q, %q; want %q, problem containing %q", tc.raw, got, problem, tc.want, tc.problem)
		}
	}
}

func TestNormalizeUsernameLookup(t *testing.T) {
	for raw, want := range map[string]string{
		"Alice":         "alice",
		" ALICE ":       "alice",
		"ＡＬＩＣＥ":         "alice",
		"alice\u200b":   "alice\u200b", // refused by PRECIS: never matches a new account
		"Legacy Name 1": "legacy name 1",
	} {
		if got := NormalizeUsername(raw); got != want {
			t.Errorf("NormalizeUsername(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestCreateUserRefusesLookAlikes: the registry refuses look-alikes with a
// message naming the field.
func TestCreateUserRefusesLookAlikes(t *testing.T) {
	r := newTenant(t)
	for _, name := range []string{"alice\u200b", "\u0430lice", "\u202eecila"} {
		_, err := r.CreateUser(t.Context(), "acme", UserSpec{Username: name, Password: "correct horse battery staple"})
		wantFieldError(t, err, "username")
	}
}
