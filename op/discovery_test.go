package op

import (
	"strings"
	"testing"
)

func TestEntityTag(t *testing.T) {
	a, b := entityTag([]byte(`{"keys":[]}`)), entityTag([]byte(`{"keys":[1]}`))
	if a == b {
		t.Errorf("different bodies share the tag %s", a)
	}
	if a != entityTag([]byte(`{"keys":[]}`)) {
		t.Errorf("the same body got two tags")
	}
	// A strong validator is a quoted string (RFC 9110 §8.8.3), not weak.
	if !strings.HasPrefix(a, `"`) || !strings.HasSuffix(a, `"`) || strings.HasPrefix(a, "W/") {
		t.Errorf("tag %s is not a quoted strong validator", a)
	}
	if n := len(strings.Trim(a, `"`)); n != 22 { // 128 bits, base64url unpadded
		t.Errorf("tag %s has %d characters, want 22 (128 bits)", a, n)
	}
}

// TestETagMatches: If-None-Match uses the weak comparison (RFC 9110
// §13.1.2).
func TestETagMatches(t *testing.T) {
	const tag = `"abc"`
	for _, tc := range []struct {
		name, header string
		want         bool
	}{
		{"absent", "", false},
		{"same", `"abc"`, true},
		{"weak form of the same", `W/"abc"`, true},
		{"star", "*", true},
		{"in a list", `"x", "abc"`, true},
		{"in a list without spaces", `"x","abc"`, true},
		{"other tag", `"abd"`, false},
		{"unquoted", `abc`, false},
		{"prefix of the tag", `"ab"`, false},
		{"list of others", `"x", W/"y"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := etagMatches(tc.header, tag); got != tc.want {
				t.Errorf("etagMatches(%q, %s) = %v, want %v", tc.header, tag, got, tc.want)
			}
		})
	}
}
