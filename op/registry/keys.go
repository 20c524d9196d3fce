package registry

import (
	"context"
	"errors"
	"strings"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/storage"
)

// Audit actions and target of the key lifecycle.
const (
	ActionKeysRotate = "keys.rotate"
	ActionKeyRevoke  = "key.revoke"
	TargetKey        = "key"
)

// RotateKeys rotates the tenant's signing keys of alg (default: the
// algorithm the tenant signs with): the next key, published since the
// previous rotation, signs from now on; the active key is retired (it stays
// in the JWKS until its tokens have expired); a fresh next key is
// published. Every replica drops its cached keys (OnChange), so tokens
// issued after this returns are signed by the promoted key. It fails with
// keys.ErrNextNotReady (a *keys.NotReadyError saying until when) while the
// next key has been published for less than the pre-publication window.
func (r *Registry) RotateKeys(ctx context.Context, tenant, alg string) (*keys.KeyState, error) {
	t, err := r.tenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if r.Keys == nil {
		return nil, errors.New("registry: no key manager")
	}
	if alg == "" {
		alg = t.SigningAlgorithm
		if alg == "" {
			alg = keys.RS256
		}
	}
	if !keys.ValidAlgorithm(alg) {
		return nil, &ValidationError{Field: "alg", Message: "must be one of " + strings.Join(keys.Algorithms(), ", ")}
	}
	st, err := r.Keys.Rotate(ctx, tenant, alg, keys.RotateOptions{})
	if errors.Is(err, keys.ErrKeyNotFound) {
		return nil, &storage.NotFoundError{Record: keyRecord(tenant, alg)}
	}
	if err != nil {
		if errors.Is(err, keys.ErrNextNotReady) {
			// A next key may have been published just now (keys from
			// before the lifecycle existed): announce it.
			r.changed(ctx, tenant)
			return nil, err
		}
		return nil, storeError(err, keyRecord(tenant, alg))
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionKeysRotate, tenant, TargetKey, st.Active,
		map[string]any{"alg": alg, "active": st.Active, "next": st.Next}); err != nil {
		return st, err
	}
	return st, nil
}

// RevokeKey takes a compromised key out of service at once: it leaves the
// JWKS, so tokens it signed fail verification (userinfo, introspection,
// relying parties once they refetch the JWKS), and it never signs again.
// Revoking the active key promotes the next key immediately.
func (r *Registry) RevokeKey(ctx context.Context, tenant, kid string) (*keys.RevokeResult, error) {
	if _, err := r.tenant(ctx, tenant); err != nil {
		return nil, err
	}
	if r.Keys == nil {
		return nil, errors.New("registry: no key manager")
	}
	res, err := r.Keys.Revoke(ctx, tenant, kid)
	if errors.Is(err, keys.ErrKeyNotFound) {
		return nil, &storage.NotFoundError{Record: keyRecord(tenant, kid)}
	}
	if err != nil {
		return nil, storeError(err, keyRecord(tenant, kid))
	}
	if res.PreviousStatus == storage.KeyRevoked {
		return res, nil // already revoked: nothing changed, nothing to audit
	}
	r.changed(ctx, tenant)
	if err := r.audit(ctx, ActionKeyRevoke, tenant, TargetKey, kid, map[string]any{
		"alg": res.Algorithm, "previous_status": res.PreviousStatus, "promoted": res.Promoted,
		"active": res.Active, "next": res.Next}); err != nil {
		return res, err
	}
	return res, nil
}

// keyRecord names a tenant's signing key (by key ID) or its keys of one
// algorithm in errors.
func keyRecord(tenant, kidOrAlg string) storage.Record {
	return storage.Record{Kind: storage.KindSigningKey, Tenant: tenant, ID: kidOrAlg}
}
