package op_test

import "github.com/herald-idp/herald/internal/expect"

// Story tests name the field that differs (internal/expect).
var (
	field      = expect.F
	expectAll  = expect.Fields
	requireAll = expect.Require
)
