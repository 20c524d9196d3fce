package op

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/storage"
)

// The authentication audit trail (issue 10, ASVS V7.2): every login,
// throttling decision, logout, consent, code replay, refresh-token reuse
// and password change, stored through storage.AuthEvents. Source
// addresses, attempted usernames and devices are stored as keyed hashes
// (HMAC-SHA-256 under AuthAudit.HashKey, truncated to 128 bits): events of
// one address or device correlate, but the trail does not hold them unless
// AuthAudit.RawAddresses says so.

// AuthAudit configures the authentication audit trail.
type AuthAudit struct {
	// HashKey keys the hashes of addresses, usernames and devices. Empty:
	// a random key kept in storage (shared by every replica).
	HashKey []byte
	// RawAddresses stores source addresses as they are instead of hashed.
	RawAddresses bool
	// Retention is how long events are kept (default DefaultAuthAuditRetention).
	Retention time.Duration
}

// DefaultAuthAuditRetention is 90 days.
const DefaultAuthAuditRetention = 90 * 24 * time.Hour

// maxUserAgent bounds the stored user agent.
const maxUserAgent = 256

// AuthEvent is an authentication event recorded with RecordAuthEvent.
type AuthEvent = login.AuthEvent

// RecordAuthEvent appends e to the authentication audit trail of the
// request's tenant, adding time, request ID and, when r is not nil, the
// hashed client address, user agent and device fingerprint. For grants.go
// (code replay, refresh-token reuse) r may be nil. Failures are logged:
// the trail must never turn a login into an error.
func (s *Server) RecordAuthEvent(ctx context.Context, r *http.Request, e AuthEvent) {
	tenant := tenantFromContext(ctx)
	if tenant == nil {
		return
	}
	s.tel.AuthEvent(tenant.Name, e.Event, e.Outcome, e.Reason)
	ev := &storage.AuthEvent{
		Time:      s.now().UTC(),
		Tenant:    tenant.Name,
		Event:     e.Event,
		UserID:    e.UserID,
		ClientID:  e.ClientID,
		RequestID: requestIDFromContext(ctx),
		Outcome:   e.Outcome,
		Reason:    e.Reason,
	}
	if e.UserID == "" && e.Username != "" {
		ev.UsernameHash = s.auditHash("username", tenant.Name, e.Username)
	}
	if r != nil {
		addr := s.clientAddress(r)
		if s.cfg.AuthAudit.RawAddresses {
			ev.Address = addr.String()
		} else if addr.IsValid() {
			ev.Address = s.auditHash("address", addr.String())
		}
		ua := r.UserAgent()
		ev.Device = s.auditHash("device", tenant.Name, e.DeviceID, ua)
		if len(ua) > maxUserAgent {
			ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
		}
		ev.UserAgent = ua
	}
	if err := s.store.AuthEvents().AppendAuthEvent(context.WithoutCancel(ctx), ev); err != nil {
		slog.WarnContext(ctx, "auth audit: append", "event", e.Event, "error", err)
	}
}

func (s *Server) auditHash(purpose string, parts ...string) string {
	m := hmac.New(sha256.New, s.auditKey)
	m.Write([]byte(purpose))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// SweepAuthEvents deletes events older than the retention; cmd/herald's
// sweeper calls it with the other expiry sweeps.
func (s *Server) SweepAuthEvents(ctx context.Context, now time.Time) error {
	retention := s.cfg.AuthAudit.Retention
	if retention <= 0 {
		retention = DefaultAuthAuditRetention
	}
	_, err := s.store.AuthEvents().DeleteAuthEventsBefore(ctx, now.Add(-retention))
	return err
}

// clientAddress is the client's address (login.Provider.ClientAddress): the
// connection's; when the connection is from a trusted proxy, the rightmost
// X-Forwarded-For entry that is not itself a trusted proxy (entries further
// left are whatever the client claimed).
func (s *Server) clientAddress(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !s.trustedProxy(addr) { // fromTrustedProxy, without parsing RemoteAddr again
		return addr
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // malformed: trust nothing further left
		}
		addr = a.Unmap()
		if !s.trustedProxy(addr) {
			return addr
		}
	}
	return addr
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
