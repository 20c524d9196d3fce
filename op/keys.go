package op

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// signingAlgorithms is every JWS alg a tenant may sign with. The library's
// verifiers default to RS256, ES256 and PS256, so without this an EdDSA
// tenant would reject its own access tokens at /userinfo and /introspect
// and its own ID tokens as id_token_hint. Accepting all three for every
// tenant is safe: the kid selects one of the tenant's published keys and
// the library checks the alg against that key's type (oidc.FindMatchingKey).
var signingAlgorithms = []string{keys.RS256, keys.ES256, keys.EdDSA}

func verifierOptions() []zop.Option {
	return []zop.Option{
		zop.WithAccessTokenVerifierOpts(zop.WithSupportedAccessTokenSigningAlgorithms(signingAlgorithms...)),
		zop.WithIDTokenHintVerifierOpts(zop.WithSupportedIDTokenHintSigningAlgorithms(signingAlgorithms...)),
	}
}

// Installation-wide secrets, sealed under the KEK (keys.Manager.SealedSecret).
// There is no opaque-token key: opaque access tokens are random values
// stored hashed (docs/tokens.md); migration 00004 drops the old one.
const (
	secretCSRFKey      = "csrf-key"       // HMAC key of CSRF tokens
	secretDeviceKey    = "device-key"     // HMAC key of known-device cookies
	secretAuthAuditKey = "auth-audit-key" // HMAC key of hashed addresses and usernames in the auth trail (unless configured)
)

// SealedSecrets names every installation-wide secret the server keeps
// sealed, for herald keys rewrap.
var SealedSecrets = []string{secretCSRFKey, secretDeviceKey, secretAuthAuditKey}

// DefaultKeyMaintenance is how often each replica checks every tenant's keys
// for a due rotation or an expired retired key. Rotation periods are days,
// so minutes of delay do not matter; the check reads cached keys and takes
// the store's lock only when something is due.
const DefaultKeyMaintenance = 5 * time.Minute

// runKeyMaintenance runs MaintainKeys every cfg.KeyMaintenance until ctx
// ends. Every replica runs it; the store's per-key-set lock makes exactly
// one of them perform each change (keys.Manager.Maintain), and that one
// tells the others through TenantChanged.
func (s *Server) runKeyMaintenance(ctx context.Context) {
	every := s.cfg.KeyMaintenance
	switch {
	case every < 0:
		return
	case every == 0:
		every = DefaultKeyMaintenance
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.MaintainKeys(ctx); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "key maintenance", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaintainKeys runs the scheduled key lifecycle once for every tenant and
// announces each tenant whose keys changed. A retired key stays published
// for the tenant's longest token lifetime (plus the policy's margin).
func (s *Server) MaintainKeys(ctx context.Context) error {
	tenants, err := s.store.Tenants().ListTenants(ctx)
	if err != nil {
		return err
	}
	var firstErr error
	active := map[[2]string]time.Time{} // herald_signing_key_age_seconds
	defer func() { s.tel.SigningKeys(active) }()
	for _, t := range tenants {
		changed, err := s.keys.Maintain(ctx, t.Name, s.retention(t))
		if err != nil {
			slog.WarnContext(ctx, "key maintenance of a tenant", "tenant", t.Name, "error", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if changed {
			slog.InfoContext(ctx, "signing keys rotated or removed on schedule", "tenant", t.Name)
			s.TenantChanged(ctx, t.Name)
		}
		if s.tel.Metrics() {
			s.activeKeyTimes(ctx, t.Name, active)
		}
	}
	return firstErr
}

// activeKeyTimes adds the activation time of the tenant's newest active
// key of each algorithm to active (read-only: never creates keys).
func (s *Server) activeKeyTimes(ctx context.Context, tenant string, active map[[2]string]time.Time) {
	ks, err := s.keys.PublicKeys(ctx, tenant)
	if err != nil {
		return
	}
	for _, k := range ks {
		if k.Status != storage.KeyActive {
			continue
		}
		at, key := cmp.Or(k.ActivatedAt, k.CreatedAt), [2]string{tenant, k.Algorithm}
		if prev, ok := active[key]; !ok || at.After(prev) {
			active[key] = at
		}
	}
}

// retention is how long tokens of tenant t live at most: its ID-token and
// access-token lifetimes, or a client's longer override. Only signed tokens
// count; refresh tokens are opaque.
func (s *Server) retention(t *storage.Tenant) keys.RetainFunc {
	return func(ctx context.Context) (time.Duration, error) {
		l := tenantLifetimes(s.cfg.Lifetimes, t)
		longest := max(l.IDToken, l.AccessToken)
		clients, err := s.store.Clients().ListClients(ctx, t.Name)
		if err != nil {
			return 0, err
		}
		for _, c := range clients {
			longest = max(longest, c.IDTokenLifetime, c.AccessTokenLifetime)
		}
		return longest, nil
	}
}
