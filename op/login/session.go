package login

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/herald-idp/herald/storage"
)

// The SSO session: a server-side record keyed by the SHA-256 of an opaque
// 256-bit cookie value. The idle expiry slides on use; the absolute expiry
// never moves (ASVS V3.3).

// currentSession returns the browser's live session in the request's
// tenant, or nil. It slides the idle expiry.
func (h *Handler) currentSession(r *http.Request) *storage.Session {
	value := h.cookie(r, sessionCookie)
	if value == "" {
		return nil
	}
	ctx := r.Context()
	tenant := h.p.Tenant(ctx).Name
	id := sessionID(value)
	now := h.now()
	sess, err := h.store.Sessions().Session(ctx, tenant, id, now)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			slog.ErrorContext(ctx, "load session", "error", err)
		}
		return nil
	}
	idle, _ := h.p.SessionLifetimes(ctx)
	if err := h.store.Sessions().TouchSession(ctx, tenant, id, now, now.Add(idle)); err != nil {
		slog.ErrorContext(ctx, "touch session", "error", err)
	}
	return sess
}

// startSession creates a new session for user after a successful login and
// sets its cookie. A fresh ID every time prevents session fixation (ASVS
// V3.2.1); the previous session of this browser, if any, is ended.
func (h *Handler) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user *storage.User, amr []string) (*storage.Session, error) {
	h.endBrowserSession(ctx, w, r, false)
	now := h.now()
	idle, absolute := h.p.SessionLifetimes(ctx)
	value := randomToken(32)
	sess := &storage.Session{
		TenantID:          h.p.Tenant(ctx).Name,
		ID:                sessionID(value),
		UserID:            user.ID,
		AuthTime:          now,
		AMR:               amr,
		CreatedAt:         now,
		IdleExpiresAt:     now.Add(idle),
		AbsoluteExpiresAt: now.Add(absolute),
		UserAgent:         userAgentLabel(r.UserAgent()),
		LastUsedAt:        now,
	}
	if err := h.store.Sessions().CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	// A session cookie (no Max-Age): the server-side record decides expiry.
	h.setCookie(w, r, sessionCookie, value, 0)
	return sess, nil
}

// endBrowserSession deletes the browser's session record, and its cookie
// when clearCookie is set. The grants bound to the session (those without
// offline_access) end with it (docs/tokens.md).
func (h *Handler) endBrowserSession(ctx context.Context, w http.ResponseWriter, r *http.Request, clearCookie bool) {
	if value := h.cookie(r, sessionCookie); value != "" {
		tenant, id := h.p.Tenant(ctx).Name, sessionID(value)
		err := h.store.Sessions().DeleteSession(ctx, tenant, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			slog.ErrorContext(ctx, "delete session", "error", err)
		}
		if err := h.store.Grants().RevokeSessionGrants(ctx, tenant, id, h.now()); err != nil {
			slog.ErrorContext(ctx, "revoke the session's grants", "error", err)
		}
	}
	if clearCookie {
		h.setCookie(w, r, sessionCookie, "", -1)
	}
}

// satisfiesMaxAge reports whether an authentication at authTime is recent
// enough for max_age (OIDC Core §3.1.2.1).
func satisfiesMaxAge(maxAge *int64, authTime, now time.Time) bool {
	if maxAge == nil {
		return true
	}
	switch {
	case *maxAge == 0: // means "authenticate now", like prompt=login
		return false
	case *maxAge > int64(math.MaxInt64/time.Second): // would overflow; longer than any session
		return true
	}
	return now.Sub(authTime) <= time.Duration(*maxAge)*time.Second
}
