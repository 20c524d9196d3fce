package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The physical limits each workload is compared with, measured in the
// driver's process before Herald starts (so nothing competes for the
// cores): one JWS signature per algorithm, one argon2id hash at the
// server's parameters, one bcrypt hash at cost 10.

// hashSettings are the server's password-hashing settings, read from the
// same HERALD_* variables and with the same defaults as `herald serve`.
type hashSettings struct {
	memoryKiB, iterations uint32
	parallelism           uint8
	concurrency           int
}

func hashSettingsFromEnv() (hashSettings, error) {
	// The server's defaults (cmd/herald: one hash per CPU, 2 to 8).
	h := hashSettings{memoryKiB: 64 * 1024, iterations: 3, parallelism: 2, concurrency: min(max(runtime.NumCPU(), 2), 8)}
	for _, v := range []struct {
		name string
		bits int
		set  func(uint64)
	}{
		{"HERALD_ARGON2_MEMORY_KIB", 32, func(n uint64) { h.memoryKiB = uint32(n) }},
		{"HERALD_ARGON2_ITERATIONS", 32, func(n uint64) { h.iterations = uint32(n) }},
		{"HERALD_ARGON2_PARALLELISM", 8, func(n uint64) { h.parallelism = uint8(n) }},
		{"HERALD_HASH_CONCURRENCY", 16, func(n uint64) { h.concurrency = int(n) }},
	} {
		raw, ok := os.LookupEnv(v.name)
		if !ok || raw == "" {
			continue
		}
		n, err := strconv.ParseUint(raw, 10, v.bits)
		if err != nil || n == 0 {
			return h, fmt.Errorf("%s=%q: want a positive integer", v.name, raw)
		}
		v.set(n)
	}
	return h, nil
}

// limits are the measured costs.
type limits struct {
	cores      int
	sign       map[string]time.Duration // alg → median time of one signature
	hash       hashSettings
	argon2Wall time.Duration // median wall time of one hash, alone
	argon2CPU  time.Duration // median CPU time of one hash (all lanes), alone
	// argon2SatCPU is the CPU time per hash with hash_concurrency hashes
	// running at once, as under a login load: shared caches and memory
	// bandwidth make each one dearer than alone.
	argon2SatCPU time.Duration
	bcryptWall   time.Duration // median time of one bcrypt hash, cost 10
	verifyRS256  time.Duration // median time of one RS256 JWS verification (W7)
	// otherCores is the CPU other processes used while the limits were
	// measured, per measurement (before and after the load).
	otherCores []float64
}

// keepFaster merges a second measurement: each cost becomes the lower of
// the two. Outside load during one measurement inflates it (shared caches,
// memory bandwidth, SMT siblings); the limit is what the machine can do.
func (l *limits) keepFaster(o *limits) {
	for alg, d := range o.sign {
		if cur, ok := l.sign[alg]; !ok || d < cur {
			l.sign[alg] = d
		}
	}
	if o.argon2CPU < l.argon2CPU {
		l.argon2CPU, l.argon2Wall = o.argon2CPU, o.argon2Wall
	}
	l.argon2SatCPU = min(l.argon2SatCPU, o.argon2SatCPU)
	l.bcryptWall = min(l.bcryptWall, o.bcryptWall)
	if l.verifyRS256 == 0 || (o.verifyRS256 > 0 && o.verifyRS256 < l.verifyRS256) {
		l.verifyRS256 = o.verifyRS256
	}
	l.otherCores = append(l.otherCores, o.otherCores...)
}

// signLimitPerSec is cores / sign_time: tokens/s if signing were the
// only work.
func (l *limits) signLimitPerSec(alg string) float64 {
	return float64(l.cores) / l.sign[alg].Seconds()
}

// loginLimitPerSec is cores / (CPU time of one argon2id hash). A hash with
// p lanes keeps up to min(p, cores) cores busy for its wall time, so its CPU
// time is at most min(p, cores) × wall; measuring the CPU time directly also
// counts the lanes' synchronisation honestly. The hash measured alone is the
// machine's best case; argon2SatCPU shows what concurrency adds.
func (l *limits) loginLimitPerSec() float64 {
	return float64(l.cores) / l.argon2CPU.Seconds()
}

// hashBudgetMiB is the memory the hasher may hold at once:
// hash_concurrency × argon2 memory.
// hashBudgetMiB is the hashing part of the memory budget: the live hashes
// (concurrency × argon2 memory) and as much again of garbage-collector
// headroom, which is what herald serve's default soft memory limit allows.
func (l *limits) hashBudgetMiB() float64 {
	return 2 * float64(l.hash.concurrency) * float64(l.hash.memoryKiB) / 1024
}

// measureLimits runs the micro-benchmarks (a few seconds at the default
// argon2id parameters) and notes how busy the rest of the machine was.
func measureLimits(h hashSettings) (*limits, error) {
	before, err := machineAndSelf()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	l, err := measureCosts(h)
	if err != nil {
		return nil, err
	}
	after, err := machineAndSelf()
	if err != nil {
		return nil, err
	}
	others := float64(0)
	if busy, self := after[0]-before[0], after[1]-before[1]; busy > self {
		others = cpuDuration(busy-self).Seconds() / time.Since(start).Seconds()
	}
	l.otherCores = []float64{others}
	return l, nil
}

// machineAndSelf returns the busy ticks of the machine and of the driver.
func machineAndSelf() ([2]uint64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]uint64{}, err
	}
	busy, err := parseMachineBusy(data)
	if err != nil {
		return [2]uint64{}, err
	}
	self, err := proc{pid: os.Getpid()}.cpu()
	return [2]uint64{busy, self.total()}, err
}

func measureCosts(h hashSettings) (*limits, error) {
	l := &limits{cores: runtime.NumCPU(), sign: map[string]time.Duration{}, hash: h}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048) // Herald's RS256 key size
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	for _, k := range []struct {
		alg jose.SignatureAlgorithm
		key any
		n   int
	}{{jose.RS256, rsaKey, 300}, {jose.ES256, ecKey, 3000}, {jose.EdDSA, edKey, 3000}} {
		d, err := medianSignTime(k.alg, k.key, k.n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.alg, err)
		}
		l.sign[string(k.alg)] = d
	}
	if l.verifyRS256, err = medianVerifyTime(rsaKey, 300); err != nil {
		return nil, fmt.Errorf("RS256 verify: %w", err)
	}

	const hashes = 9
	pw, salt := []byte("correct horse battery staple 42"), make([]byte, 16)
	_, _ = rand.Read(salt)
	walls := make([]time.Duration, 0, hashes)
	cpus := make([]time.Duration, 0, hashes)
	// Steady state, as in a server that has been hashing for a while: the
	// heap already holds faulted-in pages for the hash memory. The first
	// hashes of a process also pay ~16k page faults per 64 MiB.
	_ = argon2.IDKey(pw, salt, h.iterations, h.memoryKiB, h.parallelism, 32)
	for range hashes {
		start, cpu0 := time.Now(), processCPU()
		_ = argon2.IDKey(pw, salt, h.iterations, h.memoryKiB, h.parallelism, 32)
		cpus = append(cpus, processCPU()-cpu0)
		walls = append(walls, time.Since(start))
	}
	l.argon2CPU = median(cpus)
	l.argon2Wall = median(walls)
	l.argon2SatCPU = saturatedHashCPU(h, pw, salt)

	walls = walls[:0]
	for range 5 {
		start := time.Now()
		if _, err := bcrypt.GenerateFromPassword(pw, 10); err != nil {
			return nil, err
		}
		walls = append(walls, time.Since(start))
	}
	l.bcryptWall = median(walls)
	runtime.GC() // give the argon2 buffers back before Herald is measured
	return l, nil
}

// saturatedHashCPU runs hash_concurrency hashers (at most 8) and returns
// the CPU time per hash: one round to reach a steady heap (see
// measureCosts), then three measured rounds.
func saturatedHashCPU(h hashSettings, pw, salt []byte) time.Duration {
	workers := min(max(h.concurrency, 1), 8)
	round := func(each int) time.Duration {
		var wg sync.WaitGroup
		cpu0 := processCPU()
		for range workers {
			wg.Go(func() {
				for range each {
					_ = argon2.IDKey(pw, salt, h.iterations, h.memoryKiB, h.parallelism, 32)
				}
			})
		}
		wg.Wait()
		return processCPU() - cpu0
	}
	round(1)
	const each = 3
	return round(each) / time.Duration(workers*each)
}

// medianSignTime signs a typical access-token payload n times.
func medianSignTime(alg jose.SignatureAlgorithm, key any, n int) (time.Duration, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "bench"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return 0, err
	}
	payload := []byte(`{"iss":"http://127.0.0.1:8080/t/bench","sub":"bench-web","aud":["bench-web"],` +
		`"exp":1900000000,"iat":1800000000,"client_id":"bench-web","jti":"r4nd0mJT1abcdefghijklm","scope":"api"}`)
	samples := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		jws, err := signer.Sign(payload)
		if err != nil {
			return 0, err
		}
		if _, err := jws.CompactSerialize(); err != nil {
			return 0, err
		}
		samples = append(samples, time.Since(start))
	}
	return median(samples), nil
}

// medianVerifyTime is the median time to verify one RS256 access token
// (the "one verification" of W7's target).
func medianVerifyTime(key *rsa.PrivateKey, n int) (time.Duration, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return 0, err
	}
	jws, err := signer.Sign([]byte(`{"iss":"http://127.0.0.1:8080/t/bench","sub":"u","exp":1900000000,"jti":"g.r"}`))
	if err != nil {
		return 0, err
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return 0, err
	}
	samples := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			return 0, err
		}
		if _, err := parsed.Verify(&key.PublicKey); err != nil {
			return 0, err
		}
		samples = append(samples, time.Since(start))
	}
	return median(samples), nil
}

// processCPU is the driver's own user+system time (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
