package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The defended storm (issue 10): defendedAttackers source addresses flood
// wrong passwords for the bench user while that user, on the browser it
// signed in with before (its device cookie), logs in again and again from
// its own address. The defences under test are the login throttle, the
// device exemption from the account back-off and fair hashing
// (docs/security.md); what counts is the user's success rate and latency.
const (
	defendedAttackers  = 20
	attackersPerSource = 2
	defendedRamp       = time.Second
	// defendedUserPause is the user's pause between two sign-ins. The user
	// is bound by its own address's limit (20 free attempts, then back-off:
	// docs/security.md), and a person does not sign in several times a
	// second; without a pause the bench measures that limit, not the
	// defences against the flood.
	defendedUserPause = 400 * time.Millisecond
)

type defendedReport struct {
	duration       time.Duration
	userOK, userN  int
	p50, p95, max  time.Duration
	userErrors     []string
	attackStatuses map[int]int // attacker answers by HTTP status (0: transport error)
	peak           memStatus
	redisUsed      string // Redis used_memory_human after the storm ("" without Redis)
}

func (d *defendedReport) successRate() float64 {
	if d.userN == 0 {
		return 0
	}
	return float64(d.userOK) / float64(d.userN)
}

// runDefended runs the defended storm for the bench's stormDuration × 2
// (at least 8 s) after a one-second ramp of the attack.
func runDefended(ctx context.Context, b *bench, srv *heraldServer, redisURL string) (*defendedReport, error) {
	if b.device.Load() == nil {
		return nil, errors.New("defended storm: the bench user has no known device (no login completed)")
	}
	dur := max(2*b.opts.stormDuration, 8*time.Second)
	rep := &defendedReport{duration: dur, attackStatuses: map[int]int{}}
	actx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range defendedAttackers {
		hc := newHTTPClientFrom(attackersPerSource, fmt.Sprintf("127.0.2.%d", i+1))
		defer hc.close()
		f := &flow{http: hc, serverHost: b.serverHost, jwks: b.jwks, username: b.data.username}
		for range attackersPerSource {
			wg.Go(func() {
				for actx.Err() == nil {
					for status, n := range attackOnce(actx, f, b.data.web) {
						mu.Lock()
						rep.attackStatuses[status] += n
						mu.Unlock()
					}
				}
			})
		}
	}
	sleepCtx(ctx, defendedRamp)

	hc := newHTTPClientFrom(1, "127.0.3.1")
	defer hc.close()
	user := b.flow(hc)
	var lat []time.Duration
	end := time.Now().Add(dur)
	for time.Now().Before(end) && ctx.Err() == nil {
		start := time.Now()
		_, err := user.login(ctx, b.data.web, loginScope)
		took := time.Since(start)
		rep.userN++
		if err != nil {
			if len(rep.userErrors) < 5 {
				rep.userErrors = append(rep.userErrors, err.Error())
			}
			sleepCtx(ctx, defendedUserPause)
			continue
		}
		rep.userOK++
		lat = append(lat, took)
		sleepCtx(ctx, defendedUserPause)
	}
	stop()
	wg.Wait()
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		rep.p50, rep.p95, rep.max = percentile(lat, 50), percentile(lat, 95), lat[len(lat)-1]
	}
	sleepCtx(ctx, time.Second)
	if m, err := srv.proc.mem(); err == nil {
		rep.peak = m
	}
	rep.redisUsed = redisUsedMemory(ctx, redisURL)
	return rep, nil
}

// attackOnce opens one authorization request as an attacker (no device
// cookie) and posts wrong passwords on its form until the request is gone
// or ctx ends; it returns the answers by status.
func attackOnce(ctx context.Context, f *flow, c rpClient) map[int]int {
	got := map[int]int{}
	br, err := f.newBrowser()
	if err != nil {
		return got
	}
	sum := sha256.Sum256([]byte(randomString(32)))
	authorize := c.issuer + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirectURI},
		"scope": {"openid"}, "state": {randomString(16)}, "nonce": {randomString(16)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	page, err := br.do(ctx, "authorize", http.MethodGet, authorize, nil)
	if err != nil || page.status != http.StatusOK {
		if err == nil {
			got[page.status]++
			sleepCtx(ctx, 100*time.Millisecond)
		}
		return got
	}
	form, err := parseLoginForm(page.body)
	if err != nil {
		return got
	}
	action, err := page.url.Parse(form.action)
	if err != nil {
		return got
	}
	for n := 0; ctx.Err() == nil; n++ {
		values := url.Values{}
		for k, v := range form.hidden {
			values[k] = slices.Clone(v)
		}
		values.Set("username", f.username)
		values.Set("password", "wrong-guess-"+randomString(6))
		r, err := br.do(ctx, "login", http.MethodPost, action.String(), values)
		if err != nil {
			if ctx.Err() == nil {
				got[0]++
			}
			return got
		}
		got[r.status]++
		switch r.status {
		case http.StatusBadRequest, http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if r.status == http.StatusBadRequest && !strings.Contains(string(r.body), "password") {
				return got // the request is gone: start another
			}
		default:
			return got
		}
	}
	return got
}

func renderDefended(w func(string, ...any), d *defendedReport) {
	var statuses []string
	var keys []int
	for k := range d.attackStatuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	total := 0
	for _, k := range keys {
		statuses = append(statuses, fmt.Sprintf("%d × %d", d.attackStatuses[k], k))
		total += d.attackStatuses[k]
	}
	w("- defended storm (%d attacking addresses × %d connections flooding wrong passwords for the bench user for %s, "+
		"while the user signs in again and again, pausing %s between sign-ins, on its known device from its own address): "+
		"**%d of %d logins succeeded (%.0f%%)**, latency p50 %.0f ms, **p95 %.0f ms**, max %.0f ms (target: every login within 2 s: %s); "+
		"attackers got %d answers: %s; peak RSS %.1f MiB",
		defendedAttackers, attackersPerSource, d.duration, defendedUserPause, d.userOK, d.userN, 100*d.successRate(),
		ms(d.p50), ms(d.p95), ms(d.max), yesNo(d.userN > 0 && d.userOK == d.userN && d.max <= 2*time.Second),
		total, strings.Join(statuses, ", "), mib(d.peak.hwmKiB))
	if d.redisUsed != "" {
		w(", Redis used_memory %s", d.redisUsed)
	}
	w("\n")
	for _, e := range d.userErrors {
		w("  - user login failed: %s\n", mdEscape(e))
	}
}

// redisUsedMemory is Redis's used_memory_human ("" without Redis or on error).
func redisUsedMemory(ctx context.Context, redisURL string) string {
	if redisURL == "" {
		return ""
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return ""
	}
	c := redis.NewClient(opts)
	defer c.Close()
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory_human:"); ok {
			return v
		}
	}
	return ""
}
