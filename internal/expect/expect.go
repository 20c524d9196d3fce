package expect

import (
	"reflect"
	"sort"
	"testing"
)

// Field is one expectation: a name, what was got and what is wanted
// (compared with reflect.DeepEqual).
type Field struct {
	name      string
	got, want any
}

// F is the expectation that got equals want, reported as name.
func F(name string, got, want any) Field { return Field{name, got, want} }

// Fields reports every field that differs, and whether all matched.
func Fields(t testing.TB, what string, fields ...Field) bool {
	t.Helper()
	ok := true
	for _, f := range fields {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s: %s = %#v, want %#v", what, f.name, f.got, f.want)
			ok = false
		}
	}
	return ok
}

// Require is Fields, ending the test when a field differs.
func Require(t testing.TB, what string, fields ...Field) {
	t.Helper()
	if !Fields(t, what, fields...) {
		t.FailNow()
	}
}

// RequireKeys is Require over the keys of a JSON object that want lists
// (a nil want: absent or null).
func RequireKeys(t testing.TB, what string, got, want map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := make([]Field, 0, len(keys))
	for _, k := range keys {
		fields = append(fields, F(k, got[k], want[k]))
	}
	Require(t, what, fields...)
}
