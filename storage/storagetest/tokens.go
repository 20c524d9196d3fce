package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// grants creates live grants of tenant A.
func (f *fixture) grants(t *testing.T, tenant string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		must(t, f.s.Grants().CreateGrant(t.Context(), newGrant(tenant, id, f.now)))
	}
}

func testAccessTokens(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tokens()
	f.grants(t, tenantA, "grant-1", "grant-cc")

	want := newAccessToken(tenantA, "at-1", "grant-1", f.now)
	must(t, ts.IssueTokens(ctx, want, nil))
	got, err := ts.AccessToken(ctx, tenantA, "at-1", f.now)
	must(t, err)
	equal(t, got, want)
	_, err = ts.RefreshToken(ctx, tenantA, "at-1", f.now)
	wantNotFound(t, err)

	// client_credentials: the client's own grant, the client is the subject.
	cc := newAccessToken(tenantA, "at-cc", "grant-cc", f.now)
	cc.Subject = cc.ClientID
	must(t, ts.IssueTokens(ctx, cc, nil))
	got, err = ts.AccessToken(ctx, tenantA, "at-cc", f.now)
	must(t, err)
	equal(t, got, cc)

	_, err = ts.AccessToken(ctx, tenantA, "at-1", want.ExpiresAt)
	wantNotFound(t, err)
	_, err = ts.AccessToken(ctx, tenantA, "at-1", f.now.Add(2*time.Hour))
	wantNotFound(t, err)
	_, err = ts.AccessToken(ctx, tenantA, "nope", f.now)
	wantNotFound(t, err)

	must(t, f.s.Grants().RevokeGrant(ctx, tenantA, "grant-1", f.now))
	_, err = ts.AccessToken(ctx, tenantA, "at-1", f.now)
	wantNotFound(t, err)
	_, err = ts.AccessToken(ctx, tenantA, "at-cc", f.now)
	must(t, err)

	// A token without a grant is refused; an empty grant ID never matches.
	if err := ts.IssueTokens(ctx, newAccessToken(tenantA, "at-nogrant", "", f.now), nil); err == nil {
		t.Fatal("IssueTokens stored an access token without a grant")
	}
	if err := f.s.Grants().RevokeGrant(ctx, tenantA, "", f.now); err == nil {
		t.Fatal("RevokeGrant accepted an empty grant ID")
	}
	_, err = ts.AccessToken(ctx, tenantA, "at-cc", f.now)
	must(t, err)
}

func testIssueTokensAtomic(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tokens()
	f.grants(t, tenantA, "grant-1", "grant-2", "grant-3")

	at := newAccessToken(tenantA, "at-1", "grant-1", f.now)
	rt := newRefreshToken(tenantA, "rt-1", "grant-1", f.now)
	must(t, ts.IssueTokens(ctx, at, rt))
	got, err := ts.RefreshToken(ctx, tenantA, "rt-1", f.now)
	must(t, err)
	equal(t, got, rt)
	if got.UsedAt != nil {
		t.Fatalf("fresh refresh token has UsedAt %v", got.UsedAt)
	}
	_, err = ts.RefreshToken(ctx, tenantA, "rt-1", rt.ExpiresAt)
	wantNotFound(t, err)

	// A duplicate access token ID fails the call and stores no refresh token.
	err = ts.IssueTokens(ctx, newAccessToken(tenantA, "at-1", "grant-2", f.now),
		newRefreshToken(tenantA, "rt-2", "grant-2", f.now))
	wantErr(t, err, storage.ErrAlreadyExists)
	_, err = ts.RefreshToken(ctx, tenantA, "rt-2", f.now)
	wantNotFound(t, err)
	// And the other way round.
	err = ts.IssueTokens(ctx, newAccessToken(tenantA, "at-3", "grant-3", f.now),
		newRefreshToken(tenantA, "rt-1", "grant-3", f.now))
	wantErr(t, err, storage.ErrAlreadyExists)
	_, err = ts.AccessToken(ctx, tenantA, "at-3", f.now)
	wantNotFound(t, err)
}

func testRefreshRotation(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tokens()
	f.grants(t, tenantA, "grant-1", "grant-5")
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-0", "grant-1", f.now),
		newRefreshToken(tenantA, "rt-0", "grant-1", f.now)))

	rotatedAt := f.now.Add(time.Minute)
	at1 := newAccessToken(tenantA, "at-1", "grant-1", rotatedAt)
	rt1 := newRefreshToken(tenantA, "rt-1", "grant-1", rotatedAt)
	must(t, ts.RotateRefreshToken(ctx, tenantA, "rt-0", rotatedAt, at1, rt1))

	old, err := ts.RefreshToken(ctx, tenantA, "rt-0", rotatedAt)
	must(t, err)
	if old.UsedAt == nil || !old.UsedAt.Equal(rotatedAt) {
		t.Fatalf("rotated token UsedAt = %v, want %v", old.UsedAt, rotatedAt)
	}
	got, err := ts.RefreshToken(ctx, tenantA, "rt-1", rotatedAt)
	must(t, err)
	equal(t, got, rt1)
	gotAT, err := ts.AccessToken(ctx, tenantA, "at-1", rotatedAt)
	must(t, err)
	equal(t, gotAT, at1)

	// Reuse of rt-0: ErrAlreadyUsed, and nothing of this call is stored.
	err = ts.RotateRefreshToken(ctx, tenantA, "rt-0", rotatedAt.Add(time.Minute),
		newAccessToken(tenantA, "at-2", "grant-1", rotatedAt), newRefreshToken(tenantA, "rt-2", "grant-1", rotatedAt))
	wantErr(t, err, storage.ErrAlreadyUsed)
	_, err = ts.AccessToken(ctx, tenantA, "at-2", rotatedAt)
	wantNotFound(t, err)
	_, err = ts.RefreshToken(ctx, tenantA, "rt-2", rotatedAt)
	wantNotFound(t, err)

	// Without a successor refresh token (no rotation policy).
	at3 := newAccessToken(tenantA, "at-3", "grant-1", rotatedAt)
	must(t, ts.RotateRefreshToken(ctx, tenantA, "rt-1", rotatedAt, at3, nil))
	_, err = ts.AccessToken(ctx, tenantA, "at-3", rotatedAt)
	must(t, err)

	err = ts.RotateRefreshToken(ctx, tenantA, "unknown", f.now,
		newAccessToken(tenantA, "at-4", "grant-1", f.now), nil)
	wantNotFound(t, err)
	_, err = ts.AccessToken(ctx, tenantA, "at-4", f.now)
	wantNotFound(t, err)

	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-5", "grant-5", f.now),
		newRefreshToken(tenantA, "rt-5", "grant-5", f.now)))
	err = ts.RotateRefreshToken(ctx, tenantA, "rt-5", f.now.Add(25*time.Hour),
		newAccessToken(tenantA, "at-6", "grant-5", f.now), nil)
	wantNotFound(t, err)
	_, err = ts.AccessToken(ctx, tenantA, "at-6", f.now)
	wantNotFound(t, err)
}

func testRefreshRotationConcurrent(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tokens()
	f.grants(t, tenantA, "grant-1")
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-0", "grant-1", f.now),
		newRefreshToken(tenantA, "rt-0", "grant-1", f.now)))

	errs := race(concurrency, func(i int) error {
		return ts.RotateRefreshToken(ctx, tenantA, "rt-0", f.now,
			newAccessToken(tenantA, fmt.Sprintf("at-%d", i+1), "grant-1", f.now),
			newRefreshToken(tenantA, fmt.Sprintf("rt-%d", i+1), "grant-1", f.now))
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("callers %d and %d both rotated the same refresh token", winner, i)
			}
			winner = i
		case errors.Is(err, storage.ErrAlreadyUsed):
		default:
			t.Fatalf("caller %d: unexpected error %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no concurrent rotation succeeded")
	}
	// Only the winner's successors exist.
	for i := range concurrency {
		_, errAT := ts.AccessToken(ctx, tenantA, fmt.Sprintf("at-%d", i+1), f.now)
		_, errRT := ts.RefreshToken(ctx, tenantA, fmt.Sprintf("rt-%d", i+1), f.now)
		if i == winner {
			must(t, errAT)
			must(t, errRT)
			continue
		}
		wantNotFound(t, errAT)
		wantNotFound(t, errRT)
	}
}

func testRevokeGrant(t *testing.T, f *fixture) {
	ctx, ts := t.Context(), f.s.Tokens()
	type tokenRef struct {
		tenant, id string
		revoked    bool
	}
	f.grants(t, tenantA, "grant-1", "grant-2")
	f.grants(t, tenantB, "grant-1")
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-g1", "grant-1", f.now),
		newRefreshToken(tenantA, "rt-g1", "grant-1", f.now)))
	must(t, ts.RotateRefreshToken(ctx, tenantA, "rt-g1", f.now,
		newAccessToken(tenantA, "at-g1-2", "grant-1", f.now), newRefreshToken(tenantA, "rt-g1-2", "grant-1", f.now)))
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantA, "at-g2", "grant-2", f.now),
		newRefreshToken(tenantA, "rt-g2", "grant-2", f.now)))
	must(t, ts.IssueTokens(ctx, newAccessToken(tenantB, "at-g1", "grant-1", f.now),
		newRefreshToken(tenantB, "rt-g1", "grant-1", f.now)))

	must(t, f.s.Grants().RevokeGrant(ctx, tenantA, "grant-1", f.now))
	must(t, f.s.Grants().RevokeGrant(ctx, tenantA, "grant-unknown", f.now))

	for _, tc := range []tokenRef{
		{tenantA, "g1", true}, {tenantA, "g1-2", true}, {tenantA, "g2", false}, {tenantB, "g1", false},
	} {
		_, errAT := ts.AccessToken(ctx, tc.tenant, "at-"+tc.id, f.now)
		_, errRT := ts.RefreshToken(ctx, tc.tenant, "rt-"+tc.id, f.now)
		if tc.revoked {
			wantNotFound(t, errAT)
			wantNotFound(t, errRT)
		} else {
			must(t, errAT)
			must(t, errRT)
		}
	}
	// A revoked refresh token cannot be rotated either.
	err := ts.RotateRefreshToken(ctx, tenantA, "rt-g1-2", f.now, newAccessToken(tenantA, "at-x", "grant-1", f.now), nil)
	wantErr(t, err, storage.ErrRevoked)
	// Nor can a token of a revoked grant be minted.
	err = ts.IssueTokens(ctx, newAccessToken(tenantA, "at-y", "grant-1", f.now), nil)
	wantErr(t, err, storage.ErrRevoked)
	err = ts.IssueTokens(ctx, nil, newRefreshToken(tenantA, "rt-y", "grant-1", f.now))
	wantErr(t, err, storage.ErrRevoked)
	_, err = ts.AccessToken(ctx, tenantA, "at-y", f.now)
	wantNotFound(t, err)
}
