package main

import (
	"fmt"
	"time"
)

// Workload IDs. W3 and W6 have one row per variant.
const (
	idDiscovery    = "W1"
	idJWKS         = "W2"
	idCCRS256      = "W3-RS256"
	idCCES256      = "W3-ES256"
	idCCEdDSA      = "W3-EdDSA"
	idRefresh      = "W4"
	idLogin        = "W5"
	idIntrospectAT = "W6-JWT"
	idIntrospectRT = "W6-refresh"
	idUserinfo     = "W7-userinfo"   // a user's JWT access token at userinfo
	idIntrospectUA = "W7-introspect" // the same token introspected by its client
	idStorm        = "storm"
	idDefended     = "defended"
)

// Targets of issue 5 §3 and issue 9, in server CPU milliseconds per request.
const (
	targetStaticCPUMs = 0.03 // W1, W2
	// W3 with ES256 or EdDSA (issue 9): ≤ the signature + 0.08 and ≤ 0.12.
	// Issue 5 had asked for 0.07 flat, below the HTTP floor of W1 plus a
	// signature on this machine; issue 9 replaced it.
	targetSignOverheadMs = 0.08
	targetFastSignCPUMs  = 0.12
	targetSignShare      = 0.9 // W3 RS256: ≥ 90 % of the signing limit
	refreshOverheadMs    = 0.3 // W4: signatures + 0.3 ms
	targetLoginShare     = 0.9 // W5: ≥ 90 % of cores / hash CPU
	targetLoginOwnMs     = 1.5 // W5: Herald's own cost per login, hash excluded
	targetTokenCheckMs   = 0.1 // W7: ≤ 0.1 CPU-ms + one verification (issue 9)
	targetIdleRSSMiB     = 25
	fixedOverheadMiB     = 128 // RSS allowed beside the hashing budget
)

// verdict is a workload measured against its physical limit and target.
type verdict struct {
	limitPerSec float64 // 0: no physical limit defined
	limitCostMs float64 // CPU-ms one op costs at the limit
	limitDesc   string
	target      string
	met         *bool // nil: no target in issue 5
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func boolPtr(b bool) *bool { return &b }

// profileNote says what share of the server's CPU the profile found in the
// workload's limiting operation, e.g. "profile: 90.4% RSA signing".
func profileNote(id string, share float64) string {
	return fmt.Sprintf("profile: %.1f%% %s", 100*share, profileFocus[id].name)
}

// evaluate compares a row's result with its limit: W4 by the number of
// JWS signatures one request issues (access token + ID token), W5 by its
// own cost — from the profile's hash share when there is one, else the
// CPU per login minus the driver's hash measurement.
func evaluate(r *row, l *limits) verdict {
	res, signatures := r.res, r.signatures
	cpu := res.cpuMsPerOp()
	if res.completed() == 0 {
		return verdict{target: "no request completed", met: boolPtr(false)}
	}
	switch res.id {
	case idDiscovery, idJWKS:
		return verdict{target: fmt.Sprintf("≤ %.2f CPU-ms", targetStaticCPUMs), met: boolPtr(cpu <= targetStaticCPUMs)}
	case idCCRS256:
		sign := ms(l.sign["RS256"])
		max := sign / targetSignShare
		v := verdict{
			limitPerSec: l.signLimitPerSec("RS256"), limitCostMs: sign,
			limitDesc: fmt.Sprintf("cores / RS256 sign (%.3f ms)", sign),
			target:    fmt.Sprintf("≤ %.3f CPU-ms (sign / 0.9)", max), met: boolPtr(cpu <= max),
		}
		if r.profShare > 0 { // 0: no profile (or one without the operation)
			// cpu ≤ sign / 0.9 ⇔ own ≤ sign × (1/0.9 − 1), with the
			// signature as the server paid it.
			signed, own := cpu*r.profShare, cpu*(1-r.profShare)
			allowed := signed * (1/targetSignShare - 1)
			v.target = fmt.Sprintf("own cost %.3f ≤ %.3f CPU-ms (its signature %.3f ÷ 0.9 − itself; %s); "+
				"with the driver's signature: ≤ %.3f", own, allowed, signed, profileNote(res.id, r.profShare), max)
			v.met = boolPtr(own <= allowed)
		}
		return v
	case idCCES256, idCCEdDSA:
		alg := "ES256"
		if res.id == idCCEdDSA {
			alg = "EdDSA"
		}
		sign := ms(l.sign[alg])
		max := min(sign+targetSignOverheadMs, targetFastSignCPUMs)
		return verdict{
			limitPerSec: l.signLimitPerSec(alg), limitCostMs: sign,
			limitDesc: fmt.Sprintf("cores / %s sign (%.3f ms)", alg, sign),
			target:    fmt.Sprintf("≤ %.3f CPU-ms (sign + 0.08, ≤ 0.12)", max), met: boolPtr(cpu <= max),
		}
	case idUserinfo, idIntrospectUA:
		max := targetTokenCheckMs + ms(l.verifyRS256)
		return verdict{target: fmt.Sprintf("≤ %.3f CPU-ms (0.1 + RS256 verify %.3f)", max, ms(l.verifyRS256)), met: boolPtr(cpu <= max)}
	case idRefresh:
		cost := float64(signatures)*ms(l.sign["RS256"]) + refreshOverheadMs
		v := verdict{
			limitPerSec: float64(l.cores) / (cost / 1000), limitCostMs: cost,
			limitDesc: fmt.Sprintf("cores / (%d × RS256 sign + 0.3 ms)", signatures),
			target:    fmt.Sprintf("≤ %.3f CPU-ms", cost), met: boolPtr(cpu <= cost),
		}
		if r.profShare > 0 { // 0: no profile (or one without the operation)
			own := cpu * (1 - r.profShare)
			v.target = fmt.Sprintf("own cost %.3f ≤ %.1f CPU-ms besides its signatures (%s); "+
				"with the driver's signatures: ≤ %.3f", own, refreshOverheadMs, profileNote(res.id, r.profShare), cost)
			v.met = boolPtr(own <= refreshOverheadMs)
		}
		return v
	case idLogin:
		hash := ms(l.argon2CPU)
		limit := l.loginLimitPerSec()
		own, how := cpu-hash, "CPU − driver's hash"
		if r.profShare > 0 { // 0: no profile (or one without the operation)
			own, how = cpu*(1-r.profShare), profileNote(res.id, r.profShare)
		}
		ok := res.perSecond() >= targetLoginShare*limit && own <= targetLoginOwnMs
		return verdict{
			limitPerSec: limit, limitCostMs: hash,
			limitDesc: fmt.Sprintf("cores / argon2id CPU (%.1f ms)", hash),
			target:    fmt.Sprintf("≥ 90%% of limit; own cost %.2f ≤ %.1f CPU-ms (%s)", own, targetLoginOwnMs, how),
			met:       boolPtr(ok),
		}
	}
	return verdict{target: "—"}
}

// storm is the login storm's outcome against the memory budget.
type stormReport struct {
	res       *loadResult
	peak      memStatus // after the storm (VmHWM covers its whole life)
	budgetMiB float64   // hash_concurrency × argon2 memory + fixed overhead
}

func (s *stormReport) withinBudget() bool { return mib(s.peak.hwmKiB) <= s.budgetMiB }

// otherErrors are the storm's failures that were not a clean refusal.
func (s *stormReport) otherErrors() int { return s.res.errors.total() - s.res.refused }
