package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReplaceGeneratedKeepsHandWrittenText(t *testing.T) {
	doc := "# Benchmarks\n\nintro\n\n" + markerStart + "\nold table\n" + markerEnd + "\n\n## How to profile\n\nhand-written\n"
	got, err := replaceGenerated(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nintro\n\n" + markerStart + "\nnew table\n" + markerEnd + "\n\n## How to profile\n\nhand-written\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Idempotent: a second run replaces, never appends.
	again, _ := replaceGenerated(got, "new table\n")
	if again != want {
		t.Errorf("second replacement changed the document:\n%s", again)
	}
}

func TestReplaceGeneratedMarkers(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
	}{
		{"only start", "x\n" + markerStart + "\n", "only one"},
		{"only end", "x\n" + markerEnd + "\n", "only one"},
		{"reversed", markerEnd + "\n" + markerStart + "\n", "wrong order"},
	}
	for _, tt := range tests {
		if _, err := replaceGenerated(tt.doc, "t"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
	got, err := replaceGenerated("", "table\n")
	if err != nil || !strings.Contains(got, markerStart+"\ntable\n"+markerEnd) || !strings.HasPrefix(got, "# Benchmarks") {
		t.Errorf("new document = %q, %v", got, err)
	}
}

func testLimits() *limits {
	return &limits{
		cores:      2,
		sign:       map[string]time.Duration{"RS256": time.Millisecond, "ES256": 30 * time.Microsecond, "EdDSA": 25 * time.Microsecond},
		hash:       hashSettings{memoryKiB: 65536, iterations: 3, parallelism: 2, concurrency: 4},
		argon2Wall: 100 * time.Millisecond, argon2CPU: 200 * time.Millisecond, argon2SatCPU: 250 * time.Millisecond,
		bcryptWall: 50 * time.Millisecond,
	}
}

// result makes a load result: ok requests in 10 s with cpuMs server CPU per request.
func result(id string, ok int, cpuMs float64) *loadResult {
	return &loadResult{
		id: id, name: "test", concurrency: 8, elapsed: 10 * time.Second, ok: ok, errors: newErrorTally(),
		serverCPU: time.Duration(cpuMs * float64(ok) * float64(time.Millisecond)),
		latency:   latencySummary{count: ok, p50: time.Millisecond, p95: 2 * time.Millisecond, p99: 3 * time.Millisecond},
	}
}

func TestEvaluateTargets(t *testing.T) {
	l := testLimits()
	tests := []struct {
		res      *loadResult
		sigs     int
		wantMet  *bool
		wantRate float64 // limit per second, 0 for none
	}{
		{result(idDiscovery, 1000, 0.02), 0, boolPtr(true), 0},
		{result(idJWKS, 1000, 0.05), 0, boolPtr(false), 0},
		{result(idCCRS256, 1000, 1.1), 0, boolPtr(true), 2000},  // 1 ms / 0.9 = 1.11
		{result(idCCRS256, 1000, 1.2), 0, boolPtr(false), 2000}, // > 1.11
		{result(idCCES256, 1000, 0.06), 0, boolPtr(true), 2 / 30e-6},
		{result(idCCES256, 1000, 0.115), 0, boolPtr(false), 2 / 30e-6}, // > 0.03 + 0.08
		{result(idCCEdDSA, 1000, 0.10), 0, boolPtr(true), 2 / 25e-6},   // ≤ 0.025 + 0.08
		{result(idCCEdDSA, 1000, 0.11), 0, boolPtr(false), 2 / 25e-6},
		{result(idRefresh, 100, 2.3), 2, boolPtr(true), 2 / 2.3e-3}, // 2 × 1 ms + 0.3
		{result(idRefresh, 100, 2.4), 2, boolPtr(false), 2 / 2.3e-3},
		{result(idLogin, 95, 201), 0, boolPtr(true), 10},    // 9.5/s ≥ 90 % of 10/s, own 1 ms
		{result(idLogin, 85, 201), 0, boolPtr(false), 10},   // 8.5/s < 9/s
		{result(idLogin, 95, 202.0), 0, boolPtr(false), 10}, // own 2 ms > 1.5
		{result(idIntrospectAT, 1000, 0.3), 0, nil, 0},
		{result(idDiscovery, 0, 0), 0, boolPtr(false), 0}, // nothing completed: never "met"
	}
	for _, tt := range tests {
		v := evaluate(&row{res: tt.res, signatures: tt.sigs, profShare: -1}, l)
		if (v.met == nil) != (tt.wantMet == nil) || (v.met != nil && *v.met != *tt.wantMet) {
			t.Errorf("%s at %.3f CPU-ms, %.1f/s: met = %v, want %v (%s)", tt.res.id, tt.res.cpuMsPerOp(), tt.res.perSecond(),
				deref(v.met), deref(tt.wantMet), v.target)
		}
		if diff := v.limitPerSec - tt.wantRate; diff > 1e-6*tt.wantRate+1e-9 || -diff > 1e-6*tt.wantRate+1e-9 {
			t.Errorf("%s: limit %.3f/s, want %.3f/s", tt.res.id, v.limitPerSec, tt.wantRate)
		}
	}
}

// TestEvaluateSigningOwnCostFromProfile: with a profile, W3-RS256 and W4
// are judged by what they cost besides the RSA signatures the server paid.
func TestEvaluateSigningOwnCostFromProfile(t *testing.T) {
	l := testLimits() // RS256 sign 1 ms in the driver
	tests := []struct {
		id    string
		cpu   float64
		sigs  int
		share float64
		met   bool
	}{
		{idRefresh, 2.8, 2, 0.9, true},   // own 0.28 ≤ 0.3 although 2.8 > 2 × 1 + 0.3
		{idRefresh, 2.8, 2, 0.85, false}, // own 0.42
		{idCCRS256, 1.3, 0, 0.92, true},  // own 0.104 ≤ 1.196 / 9 = 0.133
		{idCCRS256, 1.3, 0, 0.85, false}, // own 0.195 > 1.105 / 9
		{idCCRS256, 1.05, 0, -1, true},   // no profile: 1.05 ≤ 1 / 0.9
		{idRefresh, 2.4, 2, -1, false},   // no profile: 2.4 > 2.3
	}
	for _, tt := range tests {
		v := evaluate(&row{res: result(tt.id, 100, tt.cpu), signatures: tt.sigs, profShare: tt.share}, l)
		if v.met == nil || *v.met != tt.met {
			t.Errorf("%s at %.2f CPU-ms, share %v: met %v, want %v (%s)", tt.id, tt.cpu, tt.share, deref(v.met), tt.met, v.target)
		}
	}
}

func TestEvaluateLoginOwnCostFromProfile(t *testing.T) {
	l := testLimits()
	tests := []struct {
		share float64
		met   bool
	}{
		{0.995, true}, // 201 × 0.005 = 1.0 ms of own cost
		{0.99, false}, // 2.0 ms
		{-1, true},    // no profile: 201 − 200 = 1 ms
	}
	for _, tt := range tests {
		v := evaluate(&row{res: result(idLogin, 95, 201), profShare: tt.share}, l)
		if v.met == nil || *v.met != tt.met {
			t.Errorf("share %v: met %v, want %v (%s)", tt.share, deref(v.met), tt.met, v.target)
		}
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestRenderMarkdown(t *testing.T) {
	l := testLimits()
	failing := result(idCCRS256, 1000, 1.5)
	failing.errors.add("HTTP 500 at token", `{"error":"server_error|x"}`)
	storm := result(idStorm, 30, 200)
	storm.concurrency = 200
	storm.refused = 120
	storm.errors.add("HTTP 503 at login (Retry-After)", "busy")
	storm.errors.counts["HTTP 503 at login (Retry-After)"] = 120
	idle := memStatus{rssKiB: 20 * 1024, hwmKiB: 21 * 1024}
	r := &report{
		date:      time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		machine:   machineInfo{CPUModel: "Test CPU", Cores: 2, MemMiB: 4096},
		goVersion: "go1.26 linux/amd64",
		params:    runParams{warmup: time.Second, duration: 5 * time.Second, concurrency: 8, stormConcurrency: 200, stormDuration: 4 * time.Second, workloads: []string{"W1", "W3-RS256"}},
		limits:    l,
		backends: []*backendReport{
			{name: backendSQLite, title: "Embedded store (SQLite)", idle: &idle, afterW: &memStatus{rssKiB: 200 * 1024, hwmKiB: 300 * 1024},
				rows: []*row{
					{res: result(idDiscovery, 1000, 0.02), verdict: evaluate(&row{res: result(idDiscovery, 1000, 0.02)}, l)},
					{res: failing, verdict: evaluate(&row{res: failing}, l)},
				},
				storm: &stormReport{res: storm, peak: memStatus{hwmKiB: 700 * 1024}, budgetMiB: l.hashBudgetMiB() + fixedOverheadMiB},
			},
			{name: backendPostgres, title: "PostgreSQL + Redis", reason: "connection refused"},
		},
		scaling: []tenantScaling{{benchmark: "BenchmarkDiscoveryTenants", one: goBenchResult{nsPerOp: 900, cpuNsPerOp: 1000, allocsPerOp: 10},
			many: goBenchResult{nsPerOp: 1000, cpuNsPerOp: 1050, allocsPerOp: 10}, manyTenants: "10000", throughputRt: 1000.0 / 1050, wallRt: 0.9, byCPU: true}},
	}
	md := renderMarkdown(r)
	for _, want := range []string{
		"| Date | 2026-11-26 12:00 UTC |",
		"| Machine | Test CPU, 2 cores, 4.0 GiB RAM |",
		"| Go | go1.26 linux/amd64 |",
		"argon2id m=65536 KiB, t=3, p=2; hash concurrency 4",
		"| one RS256 signature (go-jose, median) | 1.000 ms | 2000 tokens/s |",
		"| one argon2id hash, m=65536 KiB t=3 p=2 (median) | 100.0 ms wall, 200.0 ms CPU | **10.0 logins/s** |",
		"| argon2id, 4 hashes at once (for comparison) | 250.0 ms CPU per hash | 8.00 /s |",
		"| W1 test | 8 | 100 | 1.00 | 2.00 | 3.00 | 0.020 | 0 |",
		"| W3-RS256 test | 8 | 100 | 1.00 | 2.00 | 3.00 | 1.499 | 1 |",
		"| 2000 | 5% | 67% | ≤ 1.111 CPU-ms (sign / 0.9) | no |",
		`W3-RS256: 1 × HTTP 500 at token: {"error":"server_error\|x"}`,
		"idle RSS after start: **20.0 MiB** (target ≤ 25 MiB: met)",
		"peak (VmHWM) **300.0 MiB** (target ≤ 128 MiB + hashing budget 512 MiB = 640 MiB: met)",
		"**120 refused with 503/429 + Retry-After**, 0 other errors",
		"peak RSS **700.0 MiB**",
		"= 2 × 4 × 64 MiB + 128 MiB = 640 MiB: **not met**",
		"Not available in this run: connection refused",
		"| BenchmarkDiscoveryTenants | 1000 CPU-ns/op | 1050 CPU-ns/op | 10000 | 10 → 10 | 0.900 | **0.952** | met |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, markerStart) || strings.Contains(md, markerEnd) {
		t.Error("the generated part must not contain the markers")
	}
}

func TestRenderScalingNotRun(t *testing.T) {
	md := renderMarkdown(&report{scalingNote: "file not found"})
	if !strings.Contains(md, "Not measured in this run: file not found") {
		t.Errorf("markdown:\n%s", md)
	}
}

// TestBestOfRounds keeps the round with the least server CPU per request,
// and stops at the first failed round.
func TestBestOfRounds(t *testing.T) {
	cpus := []float64{0.12, 0.10, 0.11}
	i := 0
	best, prof, err := bestOfRounds(len(cpus), func() (*loadResult, workloadProfile, error) {
		r := result(idCCEdDSA, 1000, cpus[i])
		i++
		return r, workloadProfile{share: float64(i)}, nil
	})
	if err != nil || best.cpuMsPerOp() > 0.1001 || prof.share != 2 {
		t.Fatalf("best %.3f CPU-ms/op with profile %v (%v), want the second round's 0.100", best.cpuMsPerOp(), prof.share, err)
	}
	calls := 0
	if _, _, err := bestOfRounds(3, func() (*loadResult, workloadProfile, error) {
		calls++
		return nil, workloadProfile{}, errors.New("server gone")
	}); err == nil || calls != 1 {
		t.Fatalf("a failed round: err %v after %d calls, want the error after 1", err, calls)
	}
}
