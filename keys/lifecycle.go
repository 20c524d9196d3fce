package keys

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

// JWKSMaxAge is the Cache-Control max-age Herald sends with a JWKS. A
// relying party may use a cached JWKS that long, so a key must be
// published longer than this before it signs (DefaultPrePublish).
const JWKSMaxAge = 5 * time.Minute

// Lifecycle defaults (docs/keys.md explains each).
const (
	// DefaultRotationPeriod: how long a key signs before the scheduled
	// rotation replaces it. 90 days bounds what a key that leaked unnoticed
	// can sign without making rotations frequent enough to matter to RPs
	// that pin keys (they should not, but some do).
	DefaultRotationPeriod = 90 * 24 * time.Hour
	// DefaultPrePublish: how long a next key must have been in the JWKS
	// before it may sign: JWKSMaxAge, plus DefaultCacheTTL and the server's
	// own JWKS cache (a replica may serve the previous JWKS that long after
	// a change it missed), plus margin. Every tenant holds a next key that
	// was published at the previous rotation, so an on-demand rotation
	// normally does not wait for this.
	DefaultPrePublish = 2 * JWKSMaxAge
	// DefaultRetireMargin is added to the tenant's longest token lifetime to
	// decide when a retired key leaves the JWKS: covers clock skew between
	// Herald and relying parties and their verification leeway.
	DefaultRetireMargin = time.Hour
)

// Policy is the key lifecycle timing of a Manager.
type Policy struct {
	RotationPeriod time.Duration // scheduled rotation after a key signed this long
	PrePublish     time.Duration // a next key may sign only after being published this long
	RetireMargin   time.Duration // added to the longest token lifetime (Maintain)
}

// DefaultPolicy returns the documented defaults.
func DefaultPolicy() Policy {
	return Policy{RotationPeriod: DefaultRotationPeriod, PrePublish: DefaultPrePublish, RetireMargin: DefaultRetireMargin}
}

// Validate reports a policy that could sign with an unpublished key.
func (p Policy) Validate() error {
	switch {
	case p.RotationPeriod <= 0:
		return errors.New("keys: rotation period must be positive")
	case p.PrePublish <= JWKSMaxAge:
		return fmt.Errorf("keys: pre-publication window %s must exceed the JWKS max-age %s", p.PrePublish, JWKSMaxAge)
	case p.RotationPeriod < p.PrePublish:
		return fmt.Errorf("keys: rotation period %s is shorter than the pre-publication window %s", p.RotationPeriod, p.PrePublish)
	case p.RetireMargin < 0:
		return errors.New("keys: retire margin must not be negative")
	}
	return nil
}

// WithPolicy sets the lifecycle timing. NewManager fails on an invalid one.
func WithPolicy(p Policy) Option {
	return func(m *Manager) { m.policy = p }
}

// Errors of the lifecycle operations.
var (
	// ErrKeyNotFound: no key with that kid in the tenant.
	ErrKeyNotFound = errors.New("keys: no such signing key")
	// ErrNextNotReady: the next key has not been published for the
	// pre-publication window yet; a rotation now could sign tokens that
	// relying parties with a cached JWKS cannot verify.
	ErrNextNotReady = errors.New("keys: the next key has not been published long enough to sign")
)

// NotReadyError says until when a rotation must wait (wraps ErrNextNotReady).
type NotReadyError struct {
	KeyID string
	Until time.Time
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("keys: next key %s may sign from %s (pre-publication window)", e.KeyID, e.Until.UTC().Format(time.RFC3339))
}
func (e *NotReadyError) Unwrap() error { return ErrNextNotReady }

// KeyState is one algorithm's lifecycle state after an operation.
type KeyState struct {
	Algorithm string `json:"alg"`
	Active    string `json:"active"`         // kid that signs now
	Next      string `json:"next,omitempty"` // kid published for the next rotation
	// Rotated is false when nothing changed (another replica or caller
	// rotated first: IfActive no longer matched).
	Rotated bool `json:"rotated"`
}

// RotateOptions qualify Rotate.
type RotateOptions struct {
	// IfActive rotates only while this kid is still the active key, so that
	// two concurrent requests to rotate the same state rotate once.
	IfActive string
}

// Rotate promotes the tenant's next key of alg to active at once, retires
// the active key and publishes a fresh next key. It fails with a
// *NotReadyError when the next key has been published for less than the
// pre-publication window. The caller announces the change to other
// replicas (registry OnChange); this replica's cache is dropped here.
func (m *Manager) Rotate(ctx context.Context, tenant, alg string, opts RotateOptions) (*KeyState, error) {
	if err := checkTenantAlg(tenant, alg); err != nil {
		return nil, err
	}
	var state *KeyState
	err := m.updateSet(ctx, tenant, alg, 1, func(keys []*storage.SigningKey, fresh func() *storage.SigningKey) (*storage.KeySetChange, error) {
		now := m.now().UTC()
		active, next := current(keys)
		if active != nil && opts.IfActive != "" && active.ID != opts.IfActive {
			state = &KeyState{Algorithm: alg, Active: active.ID}
			if next != nil {
				state.Next = next.ID
			}
			return nil, nil
		}
		if active == nil && next == nil {
			return nil, fmt.Errorf("%w: tenant %q has no %s keys to rotate", ErrKeyNotFound, tenant, alg)
		}
		if next == nil {
			// Only keys created before the lifecycle existed lack a next
			// key; publish one now and let the caller retry later.
			n, err := freshNext(fresh)
			if err != nil {
				return nil, err
			}
			// Committing the new next key is what the caller needs; the
			// error tells it when to come back.
			return &storage.KeySetChange{Create: []*storage.SigningKey{n}},
				&NotReadyError{KeyID: n.ID, Until: n.CreatedAt.Add(m.policy.PrePublish)}
		}
		if until := next.CreatedAt.Add(m.policy.PrePublish); now.Before(until) {
			return nil, &NotReadyError{KeyID: next.ID, Until: until}
		}
		change, st, err := promote(keys, next, fresh, now)
		state = st
		return change, err
	})
	if err != nil {
		return nil, err
	}
	return state, nil
}

// promote makes next the active key, retires every other active key and
// adds a fresh next key.
func promote(keys []*storage.SigningKey, next *storage.SigningKey, fresh func() *storage.SigningKey, now time.Time) (*storage.KeySetChange, *KeyState, error) {
	n, err := freshNext(fresh)
	if err != nil {
		return nil, nil, err
	}
	change := &storage.KeySetChange{Create: []*storage.SigningKey{n}}
	for _, k := range keys {
		if k.Status == storage.KeyActive {
			k.Status, k.RetiredAt = storage.KeyRetired, now
			change.Update = append(change.Update, k)
		}
	}
	next.Status, next.ActivatedAt = storage.KeyActive, now
	change.Update = append(change.Update, next)
	return change, &KeyState{Algorithm: next.Algorithm, Active: next.ID, Next: n.ID, Rotated: true}, nil
}

// RevokeResult describes an emergency revocation.
type RevokeResult struct {
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	// PreviousStatus is what the key was: next, active, retired or revoked
	// (then nothing changed).
	PreviousStatus string `json:"previous_status"`
	// Active and Next are the tenant's keys of the algorithm afterwards.
	Active string `json:"active"`
	Next   string `json:"next,omitempty"`
	// Promoted is true when the revoked key was active and the next key
	// took over at once, whether or not its pre-publication window had
	// passed (relying parties refetch the JWKS on an unknown kid).
	Promoted bool `json:"promoted"`
}

// Revoke takes a key out of service at once: it leaves the JWKS, so every
// token it signed fails verification from now on (at this replica at once,
// at the others when they hear of the change), and it never signs again.
// Revoking the active key promotes the next key immediately so that signing
// continues, and publishes a fresh next key.
func (m *Manager) Revoke(ctx context.Context, tenant, kid string) (*RevokeResult, error) {
	if tenant == "" || kid == "" {
		return nil, errors.New("keys: tenant and key ID are required")
	}
	records, err := m.store.ListKeys(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("keys: list keys of tenant %q: %w", tenant, err)
	}
	alg := ""
	for _, r := range records {
		if r.ID == kid {
			alg = r.Algorithm
		}
	}
	if alg == "" {
		return nil, fmt.Errorf("%w: %q in tenant %q", ErrKeyNotFound, kid, tenant)
	}
	var res *RevokeResult
	err = m.updateSet(ctx, tenant, alg, 1, func(keys []*storage.SigningKey, fresh func() *storage.SigningKey) (*storage.KeySetChange, error) {
		now := m.now().UTC()
		var target *storage.SigningKey
		for _, k := range keys {
			if k.ID == kid {
				target = k
			}
		}
		if target == nil {
			return nil, fmt.Errorf("%w: %q in tenant %q", ErrKeyNotFound, kid, tenant)
		}
		res = &RevokeResult{KeyID: kid, Algorithm: alg, PreviousStatus: target.Status}
		if target.Status == storage.KeyRevoked {
			res.Active, res.Next = ids(current(keys))
			return nil, nil
		}
		wasActive := target.Status == storage.KeyActive
		target.Status, target.RetiredAt = storage.KeyRevoked, now
		change := &storage.KeySetChange{Update: []*storage.SigningKey{target}}
		active, next := current(keys) // the target no longer counts
		switch {
		case wasActive && next != nil && active == nil:
			c, st, err := promote(keys, next, fresh, now)
			if err != nil {
				return nil, err
			}
			change.Create = c.Create
			change.Update = append(change.Update, c.Update...)
			res.Promoted, res.Active, res.Next = true, st.Active, st.Next
			return dedupe(change), nil
		case wasActive && next == nil && active == nil:
			// No next key to promote: a fresh key signs at once.
			n := fresh()
			if n == nil {
				return nil, errNeedKey
			}
			n.Status, n.ActivatedAt = storage.KeyActive, now
			change.Create = append(change.Create, n)
			res.Promoted, res.Active = true, n.ID
			return change, nil
		case next == nil:
			// The revoked key was the next key: publish a new one.
			n, err := freshNext(fresh)
			if err != nil {
				return nil, err
			}
			change.Create = append(change.Create, n)
			next = n
		}
		res.Active, res.Next = ids(active, next)
		return change, nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// dedupe keeps the last update of each kid (promote may list the revoked
// key again as a retired active key; the revocation wins).
func dedupe(c *storage.KeySetChange) *storage.KeySetChange {
	seen := map[string]bool{}
	var out []*storage.SigningKey
	for _, k := range c.Update {
		if seen[k.ID] {
			continue
		}
		seen[k.ID] = true
		out = append(out, k)
	}
	c.Update = out
	return c
}

// RetainFunc returns how long a retired key must stay published: the
// longest lifetime of any token the tenant issues (per-client overrides
// included). Maintain calls it only when a retired key may be due for
// removal.
type RetainFunc func(ctx context.Context) (time.Duration, error)

// Maintain runs the scheduled part of the lifecycle for one tenant: it
// publishes a next key where one is missing, rotates each algorithm whose
// active key has signed for the rotation period (and whose next key is
// ready), and removes retired and revoked keys once retain plus the retire
// margin has passed since they stopped signing. It reads the cache first
// and takes the store's lock only when something is due, so calling it
// every few minutes for every tenant is cheap. It reports whether it
// changed anything; the caller then announces the change to the other
// replicas.
func (m *Manager) Maintain(ctx context.Context, tenant string, retain RetainFunc) (bool, error) {
	keys, err := m.tenantKeys(ctx, tenant)
	if err != nil {
		return false, err
	}
	now := m.now()
	var (
		retention time.Duration
		known     bool
	)
	algs := map[string]bool{}
	for _, k := range keys {
		switch k.Status {
		case storage.KeyActive:
			if m.rotationDue(k, keys, now) {
				algs[k.Algorithm] = true
			}
		case storage.KeyRetired, storage.KeyRevoked:
			// Cheap lower bound first: nothing is removed within the margin.
			if now.Before(k.RetiredAt.Add(m.policy.RetireMargin)) {
				continue
			}
			if !known {
				if retention, err = retain(ctx); err != nil {
					return false, err
				}
				known = true
			}
			if !now.Before(k.RetiredAt.Add(retention + m.policy.RetireMargin)) {
				algs[k.Algorithm] = true
			}
		}
	}
	changed := false
	for alg := range algs {
		err := m.updateSet(ctx, tenant, alg, 1, func(keys []*storage.SigningKey, fresh func() *storage.SigningKey) (*storage.KeySetChange, error) {
			c, err := m.maintainSet(keys, retention, known, fresh)
			changed = changed || c != nil
			return c, err
		})
		if err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// rotationDue is Maintain's pre-check of an active key on cached keys: its
// set lacks a next key, or it has signed for the rotation period.
func (m *Manager) rotationDue(k *Key, all []*Key, now time.Time) bool {
	for _, o := range all {
		if o.Algorithm == k.Algorithm && o.Status == storage.KeyNext {
			return !now.Before(activatedAt(k.ActivatedAt, k.CreatedAt).Add(m.policy.RotationPeriod))
		}
	}
	return true
}

// maintainSet decides Maintain's change for one key set under the lock.
// Retired keys are removed only when retain is known.
func (m *Manager) maintainSet(keys []*storage.SigningKey, retain time.Duration, known bool, fresh func() *storage.SigningKey) (*storage.KeySetChange, error) {
	now := m.now().UTC()
	change := &storage.KeySetChange{}
	for _, k := range keys {
		if known && (k.Status == storage.KeyRetired || k.Status == storage.KeyRevoked) &&
			!now.Before(k.RetiredAt.Add(retain+m.policy.RetireMargin)) {
			change.Delete = append(change.Delete, k.ID)
		}
	}
	active, next := current(keys)
	switch {
	case active == nil:
		// Nothing signs with this algorithm (the tenant moved to another
		// one, or its key was revoked): nothing to rotate.
	case next == nil:
		n, err := freshNext(fresh)
		if err != nil {
			return nil, err
		}
		change.Create = append(change.Create, n)
	case !now.Before(activatedAt(active.ActivatedAt, active.CreatedAt).Add(m.policy.RotationPeriod)) &&
		!now.Before(next.CreatedAt.Add(m.policy.PrePublish)):
		c, _, err := promote(keys, next, fresh, now)
		if err != nil {
			return nil, err
		}
		change.Create, change.Update = c.Create, c.Update
	}
	if len(change.Create)+len(change.Update)+len(change.Delete) == 0 {
		return nil, nil
	}
	return change, nil
}

func activatedAt(activated, created time.Time) time.Time {
	if activated.IsZero() {
		return created
	}
	return activated
}

// current returns the newest active and newest next key of a set.
func current(keys []*storage.SigningKey) (active, next *storage.SigningKey) {
	for _, k := range keys {
		switch {
		case k.Status == storage.KeyActive && active == nil:
			active = k
		case k.Status == storage.KeyNext && next == nil:
			next = k
		}
	}
	return active, next
}

func ids(active, next *storage.SigningKey) (string, string) {
	var a, n string
	if active != nil {
		a = active.ID
	}
	if next != nil {
		n = next.ID
	}
	return a, n
}

func checkTenantAlg(tenant, alg string) error {
	if !ValidAlgorithm(alg) {
		return ErrUnsupportedAlgorithm
	}
	if tenant == "" {
		return errors.New("keys: tenant is empty")
	}
	return nil
}

// freshNext takes a fresh key as the next key: published in the JWKS,
// signing only after the pre-publication window. errNeedKey when the
// fresh keys generated for this plan ran out.
func freshNext(fresh func() *storage.SigningKey) (*storage.SigningKey, error) {
	n := fresh()
	if n == nil {
		return nil, errNeedKey
	}
	n.Status = storage.KeyNext
	return n, nil
}

// errNeedKey: the plan needs more fresh keys than were generated before the
// lock was taken; updateSet generates another and tries again.
var errNeedKey = errors.New("keys: need another fresh key")

// updateSet runs plan on the tenant's key set of alg under the store's
// lock. Key generation (RSA takes tens of milliseconds) happens before the
// lock: want fresh keys are generated up front and handed out by fresh,
// which returns nil when they run out; the plan then returns errNeedKey and
// runs again with one more. A plan may return a change together with an
// error: the change is still committed and the error returned (Rotate
// publishing a missing next key). The local cache is dropped afterwards.
func (m *Manager) updateSet(ctx context.Context, tenant, alg string, want int,
	plan func(keys []*storage.SigningKey, fresh func() *storage.SigningKey) (*storage.KeySetChange, error)) error {
	var pool []*storage.SigningKey
	for attempt := 0; attempt < 4; attempt++ {
		for len(pool) < want {
			rec, err := m.newRecord(tenant, alg)
			if err != nil {
				return err
			}
			pool = append(pool, rec)
		}
		var planErr error
		err := m.store.UpdateKeySet(ctx, tenant, alg, func(keys []*storage.SigningKey) (*storage.KeySetChange, error) {
			used := 0
			fresh := func() *storage.SigningKey {
				if used == len(pool) {
					return nil
				}
				used++
				k := *pool[used-1]
				k.CreatedAt = m.now().UTC()
				return &k
			}
			change, err := plan(keys, fresh)
			planErr = err
			if err != nil && (change == nil || errors.Is(err, errNeedKey)) {
				return nil, err
			}
			return change, nil
		})
		m.Invalidate(tenant)
		if errors.Is(err, errNeedKey) {
			want++
			continue
		}
		if err != nil {
			return err
		}
		return planErr
	}
	return errors.New("keys: key set kept changing; giving up")
}

// newRecord generates a key for alg and returns its sealed storage record
// (status and times are set by the plan).
func (m *Manager) newRecord(tenant, alg string) (*storage.SigningKey, error) {
	signer, err := generateSigner(alg)
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("keys: encode %s key: %w", alg, err)
	}
	kid, err := newKeyID()
	if err != nil {
		return nil, err
	}
	stored, err := m.sealer.seal(tenant, kid, der)
	clear(der) // hygiene: the plaintext DER is no longer needed
	if err != nil {
		return nil, err
	}
	return &storage.SigningKey{TenantID: tenant, ID: kid, Algorithm: alg, PrivateKey: stored, CreatedAt: m.now().UTC()}, nil
}
