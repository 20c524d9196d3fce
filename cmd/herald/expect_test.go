package main

import "github.com/herald-idp/herald/internal/expect"

// Tests name the field that differs (internal/expect).
var (
	field       = expect.F
	expectAll   = expect.Fields
	requireAll  = expect.Require
	requireKeys = expect.RequireKeys
)
