// Package expect holds the checks Herald's story tests use when one
// response has many fields: each failure names the field with what it got
// and what it wanted, instead of one condition over every field. Test
// support only: nothing outside _test.go files imports it.
package expect
