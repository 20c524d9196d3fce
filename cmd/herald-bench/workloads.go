package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// allWorkloads is the order a backend runs them in: the cheap ones first,
// so that "RSS under W3" is not inflated by the password hashing that W4's
// and W6's set-up logins and W5 cause; the storm last.
var allWorkloads = []string{idDiscovery, idJWKS, idCCRS256, idCCES256, idCCEdDSA,
	idIntrospectAT, idIntrospectRT, idUserinfo, idIntrospectUA, idRefresh, idLogin, idStorm, idDefended}

// bench is one running Herald with its data set.
type bench struct {
	opts       *options
	data       *dataset
	serverHost string
	dir        string              // scratch space of this backend's run
	pprofAddr  string              // the server's pprof listener, if it answers
	jwks       *jose.JSONWebKeySet // of tenant bench, fetched once
	refreshSig atomic.Int32        // signatures per W4 response, once seen
	// device is the bench user's known browser (its device cookie): the
	// workloads are that user signing in again and again, not an attack.
	device atomic.Pointer[http.Cookie]
}

// fetchJWKS loads the tenant's JWKS once, for ID-token verification.
func fetchJWKS(ctx context.Context, hc *httpClient, issuer string) (*jose.JSONWebKeySet, error) {
	r, err := hc.get(ctx, issuer+"/jwks")
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("JWKS: HTTP %d", r.status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) == 0 {
		return nil, fmt.Errorf("JWKS: no keys (%v)", err)
	}
	return &set, nil
}

func (b *bench) flow(hc *httpClient) *flow {
	return &flow{http: hc, serverHost: b.serverHost, jwks: b.jwks, username: b.data.username, password: b.data.password, device: &b.device}
}

// workload returns the load spec of id, using hc for every request.
func (b *bench) workload(id string, hc *httpClient, concurrency int, duration time.Duration) (loadSpec, error) {
	o := b.opts
	spec := loadSpec{id: id, concurrency: concurrency, warmup: o.warmup, duration: duration, maxRequests: o.maxRequests}
	web := b.data.web
	same := func(fn requestFunc) func(context.Context, int) (requestFunc, error) {
		return func(context.Context, int) (requestFunc, error) { return fn, nil }
	}
	switch id {
	case idDiscovery:
		spec.name = "discovery GET"
		u := web.issuer + "/.well-known/openid-configuration"
		spec.newWorker = same(func(ctx context.Context) outcome {
			r, err := hc.get(ctx, u)
			return expectStatus(r, err, "discovery", `"issuer"`)
		})
	case idJWKS:
		spec.name = "JWKS GET"
		u := web.issuer + "/jwks"
		spec.newWorker = same(func(ctx context.Context) outcome {
			r, err := hc.get(ctx, u)
			return expectStatus(r, err, "jwks", `"keys"`)
		})
	case idCCRS256, idCCES256, idCCEdDSA:
		tenant := map[string]string{idCCRS256: tenantRS256, idCCES256: tenantES256, idCCEdDSA: tenantEdDSA}[id]
		spec.name = "client_credentials, JWT"
		cl := b.data.m2m[tenant]
		spec.newWorker = same(func(ctx context.Context) outcome {
			r, err := hc.postForm(ctx, cl.issuer+"/token", cl, url.Values{"grant_type": {"client_credentials"}})
			return expectStatus(r, err, "token", `"access_token"`)
		})
	case idIntrospectAT, idIntrospectRT:
		var token string
		if id == idIntrospectAT {
			spec.name = "introspect JWT access token"
			t, err := b.flow(hc).token(context.Background(), web, url.Values{"grant_type": {"client_credentials"}})
			if err != nil {
				return spec, err
			}
			token = t.AccessToken
		} else {
			spec.name = "introspect opaque refresh token"
			t, err := b.flow(hc).login(context.Background(), web, loginScope)
			if err != nil {
				return spec, err
			}
			if token = t.RefreshToken; token == "" {
				return spec, fmt.Errorf("the login with offline_access returned no refresh token")
			}
		}
		spec.newWorker = same(func(ctx context.Context) outcome {
			r, err := hc.postForm(ctx, web.issuer+"/introspect", web, url.Values{"token": {token}})
			return expectStatus(r, err, "introspect", `"active":true`)
		})
	case idUserinfo, idIntrospectUA:
		// A user's JWT access token: valid = signature + exp + its grant,
		// read from storage; no row per token.
		t, err := b.flow(hc).login(context.Background(), web, loginScope)
		if err != nil {
			return spec, err
		}
		token := t.AccessToken
		if id == idUserinfo {
			spec.name = "userinfo, JWT access token"
			u := web.issuer + "/userinfo"
			spec.newWorker = same(func(ctx context.Context) outcome {
				r, err := hc.getBearer(ctx, u, token)
				return expectStatus(r, err, "userinfo", `"sub"`)
			})
		} else {
			spec.name = "introspect a user's JWT access token"
			spec.newWorker = same(func(ctx context.Context) outcome {
				r, err := hc.postForm(ctx, web.issuer+"/introspect", web, url.Values{"token": {token}})
				return expectStatus(r, err, "introspect", `"active":true`)
			})
		}
	case idRefresh:
		spec.name = "refresh_token, rotation"
		spec.newWorker = b.refreshWorker(hc)
	case idLogin, idStorm:
		spec.name = "full login (argon2id)"
		if id == idStorm {
			spec.name = "login storm"
			spec.warmup, spec.duration, spec.recordTail = 0, o.stormDuration, true
		}
		f := b.flow(hc)
		spec.newWorker = same(func(ctx context.Context) outcome {
			if _, err := f.login(ctx, web, loginScope); err != nil {
				return failure(err)
			}
			return success
		})
	default:
		return spec, fmt.Errorf("unknown workload %q", id)
	}
	return spec, nil
}

// refreshWorker gives each W4 worker its own grant, obtained through a real
// login of the public client; each request redeems the newest refresh
// token and keeps the rotated one. A failed redemption breaks the chain, so
// the worker logs in again (the failure stays counted).
func (b *bench) refreshWorker(hc *httpClient) func(context.Context, int) (requestFunc, error) {
	spa := b.data.spa
	f := b.flow(hc)
	return func(ctx context.Context, _ int) (requestFunc, error) {
		t, err := f.login(ctx, spa, loginScope)
		if err != nil {
			return nil, err
		}
		if t.RefreshToken == "" {
			return nil, fmt.Errorf("the public client's login returned no refresh token")
		}
		rt := t.RefreshToken
		return func(ctx context.Context) outcome {
			next, err := f.token(ctx, spa, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			if err == nil && next.RefreshToken == "" {
				err = &stepError{step: "refresh", err: fmt.Errorf("no rotated refresh token")}
			}
			if err != nil {
				if t, lerr := f.login(ctx, spa, loginScope); lerr == nil && t.RefreshToken != "" {
					rt = t.RefreshToken
				}
				return failure(err)
			}
			rt = next.RefreshToken
			if b.refreshSig.Load() == 0 {
				b.refreshSig.Store(int32(signatureCount(next)))
			}
			return success
		}, nil
	}
}

// signatureCount is how many JWS a token response carries: a JWT access
// token and an ID token each cost one signature.
func signatureCount(t *tokenSet) int {
	n := 0
	if strings.Count(t.AccessToken, ".") == 2 {
		n++
	}
	if t.IDToken != "" {
		n++
	}
	return n
}
