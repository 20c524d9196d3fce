package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func testAuthRequests(t *testing.T, f *fixture) {
	ctx, ar := t.Context(), f.s.AuthRequests()

	want := newAuthRequest(tenantA, "req-1", f.now)
	must(t, ar.CreateAuthRequest(ctx, want))
	got, err := ar.AuthRequest(ctx, tenantA, "req-1")
	must(t, err)
	equal(t, got, want)
	wantErr(t, ar.CreateAuthRequest(ctx, newAuthRequest(tenantA, "req-1", f.now)), storage.ErrAlreadyExists)

	// MaxAge absent and present-but-zero are different requests.
	for _, tc := range []struct {
		id     string
		maxAge *int64
	}{{"req-no-max-age", nil}, {"req-max-age-0", new(int64)}} {
		r := newAuthRequest(tenantA, tc.id, f.now)
		r.MaxAge = tc.maxAge
		must(t, ar.CreateAuthRequest(ctx, r))
		got, err := ar.AuthRequest(ctx, tenantA, tc.id)
		must(t, err)
		equal(t, got, r)
	}

	updated, err := ar.UpdateAuthRequest(ctx, tenantA, "req-1", func(r *storage.AuthRequest) error {
		r.UserID = "user-1"
		r.SessionID = "session-1"
		r.AuthTime = f.now.Add(time.Second)
		r.AMR = []string{"pwd", "otp"}
		return nil
	})
	must(t, err)
	got, err = ar.AuthRequest(ctx, tenantA, "req-1")
	must(t, err)
	equal(t, got, updated)
	if got.UserID != "user-1" || !slices.Equal(got.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("update not stored: %+v", got)
	}
	_, err = ar.UpdateAuthRequest(ctx, tenantA, "req-1", func(r *storage.AuthRequest) error {
		r.UserID = "intruder"
		return errAbort
	})
	wantErr(t, err, errAbort)
	got, err = ar.AuthRequest(ctx, tenantA, "req-1")
	must(t, err)
	equal(t, got, updated)
	_, err = ar.UpdateAuthRequest(ctx, tenantA, "nope", func(*storage.AuthRequest) error { return nil })
	wantNotFound(t, err)

	expired := newAuthRequest(tenantA, "req-expired", f.now.Add(-time.Hour))
	must(t, ar.CreateAuthRequest(ctx, expired))
	_, err = ar.AuthRequest(ctx, tenantA, "req-expired")
	wantNotFound(t, err)
	_, err = ar.UpdateAuthRequest(ctx, tenantA, "req-expired", func(*storage.AuthRequest) error { return nil })
	wantNotFound(t, err)

	must(t, ar.DeleteAuthRequest(ctx, tenantA, "req-1"))
	_, err = ar.AuthRequest(ctx, tenantA, "req-1")
	wantNotFound(t, err)
	must(t, ar.DeleteAuthRequest(ctx, tenantA, "req-1"))
}

func testAuthCodes(t *testing.T, f *fixture) {
	ctx, ac := t.Context(), f.s.AuthCodes()

	want := newAuthCode(tenantA, "hash-1", "grant-1", f.now)
	must(t, ac.CreateAuthCode(ctx, want))
	wantErr(t, ac.CreateAuthCode(ctx, newAuthCode(tenantA, "hash-1", "grant-x", f.now)), storage.ErrAlreadyExists)

	usedAt := f.now.Add(time.Second)
	peek, err := ac.AuthCode(ctx, tenantA, "hash-1", usedAt)
	must(t, err)
	equal(t, peek, want)
	_, err = ac.AuthCode(ctx, tenantB, "hash-1", usedAt)
	wantNotFound(t, err)
	got, err := ac.ConsumeAuthCode(ctx, tenantA, "hash-1", usedAt)
	must(t, err)
	if got.UsedAt == nil || !got.UsedAt.Equal(usedAt) {
		t.Fatalf("consumed code UsedAt = %v, want %v", got.UsedAt, usedAt)
	}
	unused := *got
	unused.UsedAt = nil
	equal(t, &unused, want)

	// Reuse: the record comes back with ErrAlreadyUsed so that the caller
	// can revoke the grant (RFC 6749 §4.1.2).
	peek, err = ac.AuthCode(ctx, tenantA, "hash-1", usedAt.Add(time.Second))
	must(t, err)
	if peek.UsedAt == nil || !peek.UsedAt.Equal(usedAt) {
		t.Fatalf("AuthCode of a used code: UsedAt = %v, want %v", peek.UsedAt, usedAt)
	}
	got, err = ac.ConsumeAuthCode(ctx, tenantA, "hash-1", usedAt.Add(time.Second))
	wantErr(t, err, storage.ErrAlreadyUsed)
	if got == nil || got.GrantID != "grant-1" {
		t.Fatalf("reused code returned %+v, want the record with its GrantID", got)
	}

	_, err = ac.ConsumeAuthCode(ctx, tenantA, "unknown", f.now)
	wantNotFound(t, err)

	must(t, ac.CreateAuthCode(ctx, newAuthCode(tenantA, "hash-expiring", "grant-2", f.now)))
	_, err = ac.ConsumeAuthCode(ctx, tenantA, "hash-expiring", f.now.Add(time.Hour))
	wantNotFound(t, err)
	// Expiry is checked against the given time: still valid before it.
	_, err = ac.ConsumeAuthCode(ctx, tenantA, "hash-expiring", f.now.Add(30*time.Second))
	must(t, err)
	// A used code past its expiry is simply gone.
	_, err = ac.ConsumeAuthCode(ctx, tenantA, "hash-expiring", f.now.Add(time.Hour))
	wantNotFound(t, err)
}

func testAuthCodeConcurrentConsume(t *testing.T, f *fixture) {
	ctx, ac := t.Context(), f.s.AuthCodes()
	must(t, ac.CreateAuthCode(ctx, newAuthCode(tenantA, "hash-race", "grant-race", f.now)))

	codes := make([]*storage.AuthCode, concurrency)
	errs := race(concurrency, func(i int) error {
		c, err := ac.ConsumeAuthCode(ctx, tenantA, "hash-race", f.now.Add(time.Second))
		codes[i] = c
		return err
	})
	successes := 0
	for i, err := range errs {
		switch {
		case err == nil:
			successes++
		case errors.Is(err, storage.ErrAlreadyUsed):
		default:
			t.Fatalf("caller %d: unexpected error %v", i, err)
		}
		if codes[i] == nil || codes[i].GrantID != "grant-race" {
			t.Fatalf("caller %d got %+v, want the record with its GrantID", i, codes[i])
		}
	}
	if successes != 1 {
		t.Fatalf("%d of %d concurrent redemptions succeeded, want exactly 1", successes, concurrency)
	}
}

func testSessions(t *testing.T, f *fixture) {
	ctx, ss := t.Context(), f.s.Sessions()
	now := f.now

	want := newSession(tenantA, "sess-1", "user-1", now)
	must(t, ss.CreateSession(ctx, want))
	got, err := ss.Session(ctx, tenantA, "sess-1", now)
	must(t, err)
	equal(t, got, want)
	wantErr(t, ss.CreateSession(ctx, newSession(tenantA, "sess-1", "user-1", now)), storage.ErrAlreadyExists)
	_, err = ss.Session(ctx, tenantA, "nope", now)
	wantNotFound(t, err)

	// Idle expiry (30 min) and absolute expiry (8 h).
	_, err = ss.Session(ctx, tenantA, "sess-1", now.Add(31*time.Minute))
	wantNotFound(t, err)
	_, err = ss.Session(ctx, tenantA, "sess-1", want.IdleExpiresAt)
	wantNotFound(t, err)

	// Touching slides the idle expiry ...
	must(t, ss.TouchSession(ctx, tenantA, "sess-1", now, now.Add(time.Hour)))
	got, err = ss.Session(ctx, tenantA, "sess-1", now.Add(59*time.Minute))
	must(t, err)
	if !got.IdleExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("IdleExpiresAt = %v, want %v", got.IdleExpiresAt, now.Add(time.Hour))
	}
	// ... but never beyond the absolute expiry.
	must(t, ss.TouchSession(ctx, tenantA, "sess-1", now, now.Add(100*time.Hour)))
	got, err = ss.Session(ctx, tenantA, "sess-1", now.Add(7*time.Hour))
	must(t, err)
	if !got.IdleExpiresAt.Equal(want.AbsoluteExpiresAt) {
		t.Fatalf("IdleExpiresAt = %v, want capped at the absolute expiry %v", got.IdleExpiresAt, want.AbsoluteExpiresAt)
	}
	_, err = ss.Session(ctx, tenantA, "sess-1", want.AbsoluteExpiresAt)
	wantNotFound(t, err)
	_, err = ss.Session(ctx, tenantA, "sess-1", now.Add(9*time.Hour))
	wantNotFound(t, err)
	wantNotFound(t, ss.TouchSession(ctx, tenantA, "nope", now, now.Add(time.Hour)))

	// The absolute expiry holds even for a record whose idle expiry lies
	// beyond it.
	inverted := newSession(tenantA, "sess-inverted", "user-1", now)
	inverted.IdleExpiresAt = inverted.AbsoluteExpiresAt.Add(time.Hour)
	must(t, ss.CreateSession(ctx, inverted))
	_, err = ss.Session(ctx, tenantA, "sess-inverted", inverted.AbsoluteExpiresAt.Add(time.Minute))
	wantNotFound(t, err)

	must(t, ss.DeleteSession(ctx, tenantA, "sess-1"))
	_, err = ss.Session(ctx, tenantA, "sess-1", now)
	wantNotFound(t, err)
	must(t, ss.DeleteSession(ctx, tenantA, "sess-1"))

	// DeleteUserSessions ends the user's sessions in that tenant only.
	for _, s := range []*storage.Session{
		newSession(tenantA, "sess-u1-a", "user-1", now),
		newSession(tenantA, "sess-u1-b", "user-1", now),
		newSession(tenantA, "sess-u2", "user-2", now),
		newSession(tenantB, "sess-u1-other-tenant", "user-1", now),
	} {
		must(t, ss.CreateSession(ctx, s))
	}
	must(t, ss.DeleteUserSessions(ctx, tenantA, "user-1"))
	for _, id := range []string{"sess-u1-a", "sess-u1-b"} {
		_, err = ss.Session(ctx, tenantA, id, now)
		wantNotFound(t, err)
	}
	_, err = ss.Session(ctx, tenantA, "sess-u2", now)
	must(t, err)
	_, err = ss.Session(ctx, tenantB, "sess-u1-other-tenant", now)
	must(t, err)
}
