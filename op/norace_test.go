//go:build !race

package op_test

const raceEnabled = false
