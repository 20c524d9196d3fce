package storagetest

import (
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// testSweep stores expired and live records, sweeps, and then looks the
// expired ones up at a time before their expiry: a record that is still
// stored would be found then, so NotFound proves the sweep deleted it.
func testSweep(t *testing.T, f *fixture) {
	ctx, s, now := t.Context(), f.s, f.now
	past := now.Add(-48 * time.Hour)

	must(t, s.AuthRequests().CreateAuthRequest(ctx, newAuthRequest(tenantA, "req-expired", now.Add(-time.Hour))))
	must(t, s.AuthRequests().CreateAuthRequest(ctx, newAuthRequest(tenantA, "req-live", now)))

	must(t, s.AuthCodes().CreateAuthCode(ctx, newAuthCode(tenantA, "code-expired", "grant-1", now.Add(-time.Hour))))
	must(t, s.AuthCodes().CreateAuthCode(ctx, newAuthCode(tenantA, "code-used", "grant-2", now)))
	must(t, s.AuthCodes().CreateAuthCode(ctx, newAuthCode(tenantA, "code-live", "grant-3", now)))
	_, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "code-used", now)
	must(t, err)

	idleExpired := newSession(tenantA, "sess-idle-expired", "user-1", now)
	idleExpired.IdleExpiresAt = now.Add(-time.Minute)
	absExpired := newSession(tenantA, "sess-absolute-expired", "user-1", now)
	absExpired.AbsoluteExpiresAt = now.Add(-time.Minute)
	for _, sess := range []*storage.Session{idleExpired, absExpired, newSession(tenantA, "sess-live", "user-1", now)} {
		must(t, s.Sessions().CreateSession(ctx, sess))
	}

	ts := s.Tokens()
	must(t, s.Grants().CreateGrant(ctx, newGrant(tenantA, "grant-4", now)))
	must(t, s.Grants().CreateGrant(ctx, newGrant(tenantA, "grant-5", now)))
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-expired", "grant-4", now.Add(-2*time.Hour)),
		newRefreshToken(tenantA, "rt-expired", "grant-4", now.Add(-25*time.Hour))))
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-live", "grant-5", now),
		newRefreshToken(tenantA, "rt-used", "grant-5", now)))
	must(t, ts.RotateRefreshToken(ctx, tenantA, "rt-used", now,
		newAccessToken(tenantA, "at-live-2", "grant-5", now), newRefreshToken(tenantA, "rt-live", "grant-5", now)))

	// Sweep is safe to call concurrently.
	for i, err := range race(5, func(int) error { return s.Sweep(ctx, now) }) {
		if err != nil {
			t.Fatalf("Sweep %d: %v", i, err)
		}
	}

	gone := map[string]error{}
	_, gone["expired code"] = s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "code-expired", past)
	_, gone["idle-expired session"] = s.Sessions().Session(ctx, tenantA, "sess-idle-expired", past)
	_, gone["absolutely expired session"] = s.Sessions().Session(ctx, tenantA, "sess-absolute-expired", past)
	_, gone["expired access token"] = ts.AccessToken(ctx, tenantA, "at-expired", past)
	_, gone["expired refresh token"] = ts.RefreshToken(ctx, tenantA, "rt-expired", past)
	for name, err := range gone {
		if err == nil {
			t.Errorf("%s survived Sweep", name)
		} else {
			wantNotFound(t, err)
		}
	}
	_, err = s.AuthRequests().AuthRequest(ctx, tenantA, "req-expired")
	wantNotFound(t, err)

	// Live records, a used code and a rotated refresh token (kept until
	// they expire, for reuse detection) survive.
	_, err = s.AuthRequests().AuthRequest(ctx, tenantA, "req-live")
	must(t, err)
	code, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "code-used", now)
	wantErr(t, err, storage.ErrAlreadyUsed)
	if code == nil || code.GrantID != "grant-2" {
		t.Fatalf("used code after Sweep = %+v", code)
	}
	_, err = s.AuthCodes().ConsumeAuthCode(ctx, tenantA, "code-live", now)
	must(t, err)
	_, err = s.Sessions().Session(ctx, tenantA, "sess-live", now)
	must(t, err)
	for _, id := range []string{"at-live", "at-live-2"} {
		_, err = ts.AccessToken(ctx, tenantA, id, now)
		must(t, err)
	}
	rt, err := ts.RefreshToken(ctx, tenantA, "rt-used", now)
	must(t, err)
	if rt.UsedAt == nil {
		t.Fatal("rotated refresh token lost its UsedAt")
	}
	_, err = ts.RefreshToken(ctx, tenantA, "rt-live", now)
	must(t, err)
}
