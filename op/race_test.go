//go:build race

package op_test

// raceEnabled: the race detector slows argon2id and bcrypt many times over,
// so latency bounds are relaxed (correctness is still checked).
const raceEnabled = true
