//go:build race

package password

// raceEnabled: the race detector slows bcrypt and argon2id many times over,
// so latency bounds are relaxed.
const raceEnabled = true
