package login

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// Login defences (issue 10; docs/security.md "Login throttling"):
//
//   - every password attempt is counted, before any hashing, under three
//     keys: the source address (an IPv6 /64 counts as one address), the
//     account (the normalised username, whether or not it exists, so that
//     unknown and known names behave alike) and the account from that
//     address. A key past its free attempts backs off exponentially (no
//     permanent lock); a throttled attempt is answered 429 with
//     Retry-After and never reaches the password hash;
//   - a device that completed a login for the account (the signed device
//     cookie) skips the account keys, so an attacker guessing alice's
//     password from elsewhere cannot keep alice out; its own address key
//     still applies;
//   - the hash runs as the address's (per-address cap) with priority for a
//     known device (op/password fair.go);
//   - /authorize is capped per address (pending authorization requests).

// DefaultThrottle are the settings used where a tenant leaves them zero.
var DefaultThrottle = storage.LoginThrottleSettings{
	AddressFree:        20,
	AccountFree:        5,
	AccountAddressFree: 5,
	BaseDelay:          time.Second,
	MaxDelay:           15 * time.Minute,
	PendingPerAddress:  300,
}

// throttleWindow is how long a key is remembered after its last delay ends.
const throttleWindow = 15 * time.Minute

// effectiveThrottle is t's settings with defaults for zero fields.
func effectiveThrottle(t *storage.Tenant) storage.LoginThrottleSettings {
	s := DefaultThrottle
	if t == nil {
		return s
	}
	o := t.Settings.LoginThrottle
	setPositive(&s.AddressFree, o.AddressFree)
	setPositive(&s.AccountFree, o.AccountFree)
	setPositive(&s.AccountAddressFree, o.AccountAddressFree)
	setPositive(&s.BaseDelay, o.BaseDelay)
	setPositive(&s.MaxDelay, o.MaxDelay)
	setPositive(&s.PendingPerAddress, o.PendingPerAddress)
	s.BaseDelay = min(s.BaseDelay, s.MaxDelay)
	return s
}

func setPositive[T int | time.Duration](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

func throttleRule(s storage.LoginThrottleSettings, free int) storage.ThrottleRule {
	return storage.ThrottleRule{Free: free, Base: s.BaseDelay, Max: s.MaxDelay, Window: throttleWindow}
}

// addressKey is the network an address is throttled as: the address
// itself for IPv4, its /64 for IPv6 (one subscriber gets a whole /64).
func addressKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

// keyed is an HMAC of the parts under the device key: throttle keys and
// cookie tags never hold a raw address or username.
func (h *Handler) keyed(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, h.deviceKey)
	m.Write([]byte(purpose))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (h *Handler) throttleKey(kind string, parts ...string) string {
	return kind + ":" + base64.RawURLEncoding.EncodeToString(h.keyed("throttle:"+kind, parts...)[:18])
}

// attemptGate is the verdict on one login attempt.
type attemptGate struct {
	allowed bool
	retryAt time.Time
	scope   string // which key refused: "address", "account_address", "account"
	key     string
}

// gateAttempt counts the attempt under its keys, address first, and stops
// at the first key that is backing off. A known device skips the account
// keys. A storage failure fails closed (whoever can break the counters
// must not get unlimited guesses): the caller answers "try again later".
func (h *Handler) gateAttempt(ctx context.Context, tenant *storage.Tenant, addr netip.Addr, username string, knownDevice bool) (attemptGate, error) {
	st := effectiveThrottle(tenant)
	ak := addressKey(addr)
	type check struct {
		scope, key string
		rule       storage.ThrottleRule
	}
	checks := []check{{"address", h.throttleKey("a", ak), throttleRule(st, st.AddressFree)}}
	if !knownDevice {
		checks = append(checks,
			check{"account_address", h.throttleKey("ua", username, ak), throttleRule(st, st.AccountAddressFree)},
			check{"account", h.throttleKey("u", username), throttleRule(st, st.AccountFree)})
	}
	now := h.now()
	for _, c := range checks {
		d, err := h.store.LoginAttempts().Attempt(ctx, tenant.Name, c.key, now, c.rule)
		if err != nil {
			return attemptGate{}, err
		}
		if !d.Allowed {
			return attemptGate{retryAt: d.RetryAt, scope: c.scope, key: c.key}, nil
		}
	}
	return attemptGate{allowed: true}, nil
}

// loginSucceeded forgets the account's attempts after a login that went
// through the account keys (an unknown device). A known device never
// touched them and resets nothing: otherwise every sign-in of the owner
// would hand whoever is guessing the account fresh free attempts.
func (h *Handler) loginSucceeded(ctx context.Context, tenant string, addr netip.Addr, username string, knownDevice bool) {
	if knownDevice {
		return
	}
	for _, key := range []string{h.throttleKey("ua", username, addressKey(addr)), h.throttleKey("u", username)} {
		if err := h.store.LoginAttempts().ResetAttempts(ctx, tenant, key); err != nil {
			slog.WarnContext(ctx, "login: reset throttle", "error", err)
		}
	}
}

// firstRefusal reports whether this is the first refusal this process has
// seen for key's current wait. Only that one is written to the audit trail:
// a flood of refused attempts must not turn into a flood of database writes
// (one row per key and wait, per replica). The memory is bounded by
// maxRefusalMemory entries; past waits are dropped first.
func (h *Handler) firstRefusal(key string, retryAt time.Time) bool {
	m := h.refusals
	m.mu.Lock()
	defer m.mu.Unlock()
	if seen, ok := m.seen[key]; ok && seen.Equal(retryAt) {
		return false
	}
	if len(m.seen) >= maxRefusalMemory {
		now := h.now()
		for k, t := range m.seen {
			if t.Before(now) {
				delete(m.seen, k)
			}
		}
		if len(m.seen) >= maxRefusalMemory {
			clear(m.seen) // worst case: a few duplicate rows
		}
	}
	m.seen[key] = retryAt
	return true
}

// refusalMemory is firstRefusal's state: the wait each key was last
// refused in.
type refusalMemory struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// maxRefusalMemory bounds firstRefusal's map (≈ 100 bytes an entry).
const maxRefusalMemory = 10000

// retryAfter is the Retry-After value (whole seconds, at least 1).
func retryAfter(retryAt, now time.Time) int {
	return max(1, int(math.Ceil(retryAt.Sub(now).Seconds())))
}

// throttled answers an attempt refused by the throttle: 429, Retry-After
// and the login page saying when to try again. The body depends only on
// the wait, never on whether the account exists.
func (h *Handler) throttled(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, username string, retryAt time.Time) {
	secs := retryAfter(retryAt, h.now())
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.loginPage(w, r, http.StatusTooManyRequests, ar, c, username, tooManyAttempts(secs))
}

func tooManyAttempts(secs int) string {
	wait := fmt.Sprintf("%d seconds", secs)
	switch {
	case secs == 1:
		wait = "1 second"
	case secs >= 120:
		wait = fmt.Sprintf("%d minutes", (secs+59)/60)
	}
	return "Too many sign-in attempts. Please wait " + wait + " before trying again."
}

// hashCaller is who a password hash runs for (op/password fair.go).
func hashCaller(ctx context.Context, addr netip.Addr, knownDevice bool) context.Context {
	return password.WithCaller(ctx, password.Caller{Address: addressKey(addr), Priority: knownDevice})
}

// The device cookie: base64url(id[16] ‖ tag[12]… ‖ mac[16]). Each tag is
// an HMAC of (tenant, device ID, username) and says that a login of that
// account completed on this device; the MAC binds the whole to the tenant.
// HttpOnly, scoped to the tenant's path, a year long. It proves nothing by
// itself beyond "this browser signed in as alice before": it only exempts
// the device from alice's account back-off.
const (
	deviceCookie      = "herald_device"
	deviceIDLen       = 16
	deviceTagLen      = 12
	deviceMACLen      = 16
	maxDeviceAccounts = 8
	deviceCookieAge   = 365 * 24 * time.Hour
)

type device struct {
	id   []byte
	tags [][]byte
}

// readDevice returns the browser's device if its cookie is valid for the
// request's tenant, else nil.
func (h *Handler) readDevice(r *http.Request) *device {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) < deviceIDLen+deviceMACLen || (len(b)-deviceIDLen-deviceMACLen)%deviceTagLen != 0 {
		return nil
	}
	payload, mac := b[:len(b)-deviceMACLen], b[len(b)-deviceMACLen:]
	tenant := h.p.Tenant(r.Context()).Name
	if !hmac.Equal(mac, h.keyed("device", tenant, string(payload))[:deviceMACLen]) {
		return nil
	}
	d := &device{id: payload[:deviceIDLen]}
	for rest := payload[deviceIDLen:]; len(rest) > 0; rest = rest[deviceTagLen:] {
		d.tags = append(d.tags, rest[:deviceTagLen])
	}
	return d
}

func (h *Handler) deviceTag(tenant string, id []byte, username string) []byte {
	return h.keyed("device-account", tenant, string(id), username)[:deviceTagLen]
}

// knows reports whether a login of username completed on d.
func (h *Handler) knows(d *device, tenant, username string) bool {
	if d == nil {
		return false
	}
	want := h.deviceTag(tenant, d.id, username)
	for _, t := range d.tags {
		if hmac.Equal(t, want) {
			return true
		}
	}
	return false
}

// rememberDevice adds username to the browser's device cookie (creating
// the device), keeping the newest maxDeviceAccounts accounts.
func (h *Handler) rememberDevice(w http.ResponseWriter, r *http.Request, d *device, username string) *device {
	tenant := h.p.Tenant(r.Context()).Name
	if d == nil {
		d = &device{id: make([]byte, deviceIDLen)}
		_, _ = rand.Read(d.id)
	}
	if h.knows(d, tenant, username) {
		return d
	}
	d.tags = append(d.tags, h.deviceTag(tenant, d.id, username))
	if len(d.tags) > maxDeviceAccounts {
		d.tags = d.tags[len(d.tags)-maxDeviceAccounts:]
	}
	payload := append([]byte{}, d.id...)
	for _, t := range d.tags {
		payload = append(payload, t...)
	}
	value := append(payload, h.keyed("device", tenant, string(payload))[:deviceMACLen]...)
	h.setCookie(w, r, deviceCookie, base64.RawURLEncoding.EncodeToString(value), deviceCookieAge)
	return d
}

// deviceID is the device's ID in hex for the audit trail's fingerprint
// ("" without a device).
func (d *device) deviceID() string {
	if d == nil {
		return ""
	}
	return hex.EncodeToString(d.id)
}

// allowAuthRequest caps the authorization requests one address may start
// per authorization-request lifetime: Redis (or the database) then holds at
// most PendingPerAddress compact records for it.
func (h *Handler) allowAuthRequest(w http.ResponseWriter, r *http.Request) bool {
	ctx := r.Context()
	t := h.p.Tenant(ctx).Tenant
	if t == nil {
		return true
	}
	st := effectiveThrottle(t)
	rule := storage.ThrottleRule{Free: max(st.PendingPerAddress-1, 0), Base: h.arLifetime, Max: h.arLifetime, Window: h.arLifetime}
	d, err := h.store.LoginAttempts().Attempt(ctx, t.Name, h.throttleKey("authz", addressKey(h.p.ClientAddress(r))), h.now(), rule)
	if err != nil {
		slog.ErrorContext(ctx, "authorize: throttle", "error", err)
		h.errorPage(w, r, errUnavailable)
		return false
	}
	if !d.Allowed {
		if key := h.throttleKey("authz", addressKey(h.p.ClientAddress(r))); h.firstRefusal(key, d.RetryAt) {
			h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLoginThrottled, ClientID: r.Form.Get("client_id"),
				Outcome: OutcomeDenied, Reason: ReasonThrottled + ":authorize"})
		}
		secs := retryAfter(d.RetryAt, h.now())
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.errorPage(w, r, pageError{http.StatusTooManyRequests, "Too many requests",
			"Too many sign-in requests from your network. " + tooManyAttempts(secs)[len("Too many sign-in attempts. "):]})
		return false
	}
	return true
}

// sessionUserID is the user of the browser's session, without sliding its
// expiry ("" for none).
func (h *Handler) sessionUserID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	sess, err := h.store.Sessions().Session(r.Context(), h.p.Tenant(r.Context()).Name, sessionID(c.Value), h.now())
	if err != nil {
		return ""
	}
	return sess.UserID
}
