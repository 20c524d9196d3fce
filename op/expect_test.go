package op_test

import (
	"reflect"
	"testing"
)

// Story tests check many fields of one response; these helpers make a
// failure name the field with what it got and what it wanted, instead of
// one condition over every field.

// field is one expectation: a name, what was got, what is wanted
// (compared with reflect.DeepEqual).
type field struct {
	name      string
	got, want any
}

// expect reports every field that differs and whether all matched.
func expect(t *testing.T, what string, fields ...field) bool {
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

// require is expect, ending the test when a field differs.
func require(t *testing.T, what string, fields ...field) {
	t.Helper()
	if !expect(t, what, fields...) {
		t.FailNow()
	}
}
