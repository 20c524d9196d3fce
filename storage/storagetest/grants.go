package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// rounds is how often the attacker races are replayed: one lucky
// interleaving is not enough to trust an ordering.
const rounds = 20

func testGrants(t *testing.T, f *fixture) {
	ctx, gs := t.Context(), f.s.Grants()
	want := newGrant(tenantA, "grant-1", f.now)
	must(t, gs.CreateGrant(ctx, want))
	got, err := gs.Grant(ctx, tenantA, "grant-1")
	must(t, err)
	equal(t, got, want)
	if !got.Live(f.now) || got.Live(want.ExpiresAt) {
		t.Fatalf("Live: a fresh grant must be live before and dead at its expiry")
	}
	wantErr(t, gs.CreateGrant(ctx, newGrant(tenantA, "grant-1", f.now)), storage.ErrAlreadyExists)
	_, err = gs.Grant(ctx, tenantB, "grant-1")
	wantNotFound(t, err)
	_, err = gs.Grant(ctx, tenantA, "nope")
	wantNotFound(t, err)

	// Revoking in tenant B leaves A's grant alone.
	must(t, gs.RevokeGrant(ctx, tenantB, "grant-1", f.now))
	got, err = gs.Grant(ctx, tenantA, "grant-1")
	must(t, err)
	if !got.Live(f.now) {
		t.Fatal("revoking tenant B's grant-1 revoked tenant A's")
	}

	revokedAt := f.now.Add(time.Minute)
	must(t, gs.RevokeGrant(ctx, tenantA, "grant-1", revokedAt))
	must(t, gs.RevokeGrant(ctx, tenantA, "grant-1", revokedAt.Add(time.Hour)))
	got, err = gs.Grant(ctx, tenantA, "grant-1")
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, revokedAt)
	}
	if got.Live(f.now) {
		t.Fatal("a revoked grant is live")
	}
	if got.ClientID != "web" || got.UserID != "user-1" {
		t.Fatalf("revocation changed the grant: %+v", got)
	}
}

// A replay that reaches the store before the first redemption created the
// grant leaves a tombstone: the grant can no longer be created.
func testGrantRevokedBeforeCreated(t *testing.T, f *fixture) {
	ctx, gs := t.Context(), f.s.Grants()
	must(t, gs.RevokeGrant(ctx, tenantA, "grant-early", f.now))
	wantErr(t, gs.CreateGrant(ctx, newGrant(tenantA, "grant-early", f.now)), storage.ErrAlreadyExists)
	got, err := gs.Grant(ctx, tenantA, "grant-early")
	must(t, err)
	if got.Live(f.now) {
		t.Fatal("tombstone is live")
	}
	if !got.ExpiresAt.After(f.now.Add(time.Hour)) {
		t.Fatalf("tombstone expires at %v: too soon to outlive a code", got.ExpiresAt)
	}
	wantErr(t, f.s.Tokens().IssueTokens(ctx, newAccessToken(tenantA, "at-1", "grant-early", f.now), nil), storage.ErrRevoked)
}

func testRevokeGrantsBy(t *testing.T, f *fixture) {
	ctx, gs := t.Context(), f.s.Grants()
	mk := func(tenant, id, user, client, session string) {
		g := newGrant(tenant, id, f.now)
		g.UserID, g.ClientID, g.SessionID = user, client, session
		must(t, gs.CreateGrant(ctx, g))
	}
	mk(tenantA, "u1-web-s1", "user-1", "web", "s1")
	mk(tenantA, "u1-app-off", "user-1", "app", "")
	mk(tenantA, "u2-web-s2", "user-2", "web", "s2")
	mk(tenantA, "u2-app-s3", "user-2", "app", "s3")
	mk(tenantA, "cc-app", "", "app", "")
	mk(tenantB, "u1-web-s1", "user-1", "web", "s1")
	live := func(want map[string]bool) {
		t.Helper()
		for id, w := range want {
			g, err := gs.Grant(ctx, tenantA, id)
			must(t, err)
			if g.Live(f.now) != w {
				t.Fatalf("grant %s live = %v, want %v", id, !w, w)
			}
		}
		g, err := gs.Grant(ctx, tenantB, "u1-web-s1")
		must(t, err)
		if !g.Live(f.now) {
			t.Fatal("tenant B's grant was revoked by a revocation in tenant A")
		}
	}
	must(t, gs.RevokeSessionGrants(ctx, tenantA, "s1", f.now))
	live(map[string]bool{"u1-web-s1": false, "u1-app-off": true, "u2-web-s2": true, "u2-app-s3": true, "cc-app": true})
	must(t, gs.RevokeUserGrants(ctx, tenantA, "user-1", f.now))
	live(map[string]bool{"u1-app-off": false, "u2-web-s2": true, "u2-app-s3": true, "cc-app": true})
	must(t, gs.RevokeClientGrants(ctx, tenantA, "app", f.now))
	live(map[string]bool{"u2-web-s2": true, "u2-app-s3": false, "cc-app": false})

	// Empty keys would match every grant without one: refused.
	for name, err := range map[string]error{
		"user":    gs.RevokeUserGrants(ctx, tenantA, "", f.now),
		"client":  gs.RevokeClientGrants(ctx, tenantA, "", f.now),
		"session": gs.RevokeSessionGrants(ctx, tenantA, "", f.now),
	} {
		if err == nil {
			t.Errorf("revoke by empty %s: no error", name)
		}
	}
	live(map[string]bool{"u2-web-s2": true})
}

// Deleting a client revokes its grants and forgets its consents; the ID
// registered again is another client (new UID) that inherits nothing.
func testDeleteClientRevokes(t *testing.T, f *fixture) {
	ctx, s := t.Context(), f.s
	c := newClient(tenantA, "web", f.now)
	must(t, s.Clients().CreateClient(ctx, c))
	if c.UID == "" {
		t.Fatal("CreateClient set no UID")
	}
	g := newGrant(tenantA, "grant-1", f.now)
	g.ClientUID = c.UID
	must(t, s.Grants().CreateGrant(ctx, g))
	must(t, s.Tokens().IssueTokens(ctx, newAccessToken(tenantA, "at-1", "grant-1", f.now), newRefreshToken(tenantA, "rt-1", "grant-1", f.now)))
	must(t, s.Consents().GrantConsent(ctx, &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: f.now}))

	must(t, s.Clients().DeleteClient(ctx, tenantA, "web"))
	got, err := s.Grants().Grant(ctx, tenantA, "grant-1")
	must(t, err)
	if got.Live(f.now) {
		t.Fatal("grant of a deleted client is live")
	}
	_, err = s.Tokens().RefreshToken(ctx, tenantA, "rt-1", f.now)
	wantNotFound(t, err)
	_, err = s.Tokens().AccessToken(ctx, tenantA, "at-1", f.now)
	wantNotFound(t, err)
	_, err = s.Consents().Consent(ctx, tenantA, "user-1", "web")
	wantNotFound(t, err)

	again := newClient(tenantA, "web", f.now)
	must(t, s.Clients().CreateClient(ctx, again))
	if again.UID == c.UID {
		t.Fatal("a client registered again under a deleted ID has the old UID")
	}
	stored, err := s.Clients().Client(ctx, tenantA, "web")
	must(t, err)
	if stored.UID != again.UID {
		t.Fatalf("stored UID %q, want %q", stored.UID, again.UID)
	}
}

func testDeleteUserRevokes(t *testing.T, f *fixture) {
	ctx, s := t.Context(), f.s
	must(t, s.Users().CreateUser(ctx, newUser(tenantA, "user-1", "ada", f.now)))
	f.grants(t, tenantA, "grant-1")
	other := newGrant(tenantA, "grant-2", f.now)
	other.UserID = "user-2"
	must(t, s.Grants().CreateGrant(ctx, other))
	must(t, s.Tokens().IssueTokens(ctx, nil, newRefreshToken(tenantA, "rt-1", "grant-1", f.now)))
	must(t, s.Consents().GrantConsent(ctx, &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: f.now}))

	must(t, s.Users().DeleteUser(ctx, tenantA, "user-1"))
	_, err := s.Tokens().RefreshToken(ctx, tenantA, "rt-1", f.now)
	wantNotFound(t, err)
	_, err = s.Consents().Consent(ctx, tenantA, "user-1", "web")
	wantNotFound(t, err)
	g, err := s.Grants().Grant(ctx, tenantA, "grant-2")
	must(t, err)
	if !g.Live(f.now) {
		t.Fatal("deleting user-1 revoked user-2's grant")
	}
}

// Revoking a consent revokes the grants of that user to that client.
func testRevokeConsentRevokes(t *testing.T, f *fixture) {
	ctx, s := t.Context(), f.s
	f.grants(t, tenantA, "grant-1")
	other := newGrant(tenantA, "grant-other-client", f.now)
	other.ClientID = "app"
	must(t, s.Grants().CreateGrant(ctx, other))
	must(t, s.Consents().GrantConsent(ctx, &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: f.now}))
	must(t, s.Consents().RevokeConsent(ctx, tenantA, "user-1", "web"))
	g, err := s.Grants().Grant(ctx, tenantA, "grant-1")
	must(t, err)
	if g.Live(f.now) {
		t.Fatal("grant live after its consent was revoked")
	}
	g, err = s.Grants().Grant(ctx, tenantA, "grant-other-client")
	must(t, err)
	if !g.Live(f.now) {
		t.Fatal("revoking the consent to web revoked a grant to another client")
	}
}

// testCodeReplayRace plays the attacker who redeems a stolen code at the
// same moment as the client, behind a barrier: whoever wins, the loser's
// replay must revoke every token the winner got (RFC 6749 §4.1.2). This is
// the sequence op/grants.go runs.
func testCodeReplayRace(t *testing.T, f *fixture) {
	ctx, s := t.Context(), f.s
	for round := range rounds {
		hash, grantID := fmt.Sprintf("code-%d", round), fmt.Sprintf("grant-%d", round)
		must(t, s.AuthCodes().CreateAuthCode(ctx, newAuthCode(tenantA, hash, grantID, f.now)))
		type issued struct{ at, rt string }
		got := make([]issued, 2)
		errs := race(2, func(i int) error {
			code, err := s.AuthCodes().ConsumeAuthCode(ctx, tenantA, hash, f.now)
			if errors.Is(err, storage.ErrAlreadyUsed) {
				return s.Grants().RevokeGrant(ctx, tenantA, code.GrantID, f.now)
			}
			if err != nil {
				return err
			}
			err = s.Grants().CreateGrant(ctx, newGrant(tenantA, code.GrantID, f.now))
			if errors.Is(err, storage.ErrAlreadyExists) {
				return nil // the replay got there first: no tokens
			}
			if err != nil {
				return err
			}
			at := newAccessToken(tenantA, fmt.Sprintf("at-%d-%d", round, i), code.GrantID, f.now)
			rt := newRefreshToken(tenantA, fmt.Sprintf("rt-%d-%d", round, i), code.GrantID, f.now)
			err = s.Tokens().IssueTokens(ctx, at, rt)
			if errors.Is(err, storage.ErrRevoked) {
				return nil
			}
			if err == nil {
				got[i] = issued{at.ID, rt.ID}
			}
			return err
		})
		for i, err := range errs {
			must(t, err)
			if got[i].at == "" {
				continue
			}
			if _, err := s.Tokens().AccessToken(ctx, tenantA, got[i].at, f.now); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("round %d: the winner's access token survived the replay (err %v)", round, err)
			}
			if _, err := s.Tokens().RefreshToken(ctx, tenantA, got[i].rt, f.now); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("round %d: the winner's refresh token survived the replay (err %v)", round, err)
			}
		}
		g, err := s.Grants().Grant(ctx, tenantA, grantID)
		must(t, err)
		if g.Live(f.now) {
			t.Fatalf("round %d: grant live after a replay", round)
		}
	}
}

// testRefreshRevokeRace: a refresh (rotation) racing a revocation of its
// grant never leaves a live token, whichever reaches the store first.
func testRefreshRevokeRace(t *testing.T, f *fixture) {
	ctx, s := t.Context(), f.s
	for round := range rounds {
		grantID := fmt.Sprintf("grant-%d", round)
		f.grants(t, tenantA, grantID)
		old := fmt.Sprintf("rt-%d-0", round)
		must(t, s.Tokens().IssueTokens(ctx, nil, newRefreshToken(tenantA, old, grantID, f.now)))
		at := newAccessToken(tenantA, fmt.Sprintf("at-%d-1", round), grantID, f.now)
		rt := newRefreshToken(tenantA, fmt.Sprintf("rt-%d-1", round), grantID, f.now)
		errs := race(2, func(i int) error {
			if i == 0 {
				err := s.Tokens().RotateRefreshToken(ctx, tenantA, old, f.now, at, rt)
				if errors.Is(err, storage.ErrRevoked) || errors.Is(err, storage.ErrNotFound) {
					return nil
				}
				return err
			}
			return s.Grants().RevokeGrant(ctx, tenantA, grantID, f.now)
		})
		for _, err := range errs {
			must(t, err)
		}
		for _, id := range []string{old, rt.ID} {
			if _, err := s.Tokens().RefreshToken(ctx, tenantA, id, f.now); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("round %d: refresh token %s alive after its grant was revoked (err %v)", round, id, err)
			}
		}
		if _, err := s.Tokens().AccessToken(ctx, tenantA, at.ID, f.now); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("round %d: access token alive after its grant was revoked (err %v)", round, err)
		}
	}
}

// testConsumeAuthRequestConcurrent: six concurrent posts of one login form
// may issue one code only — exactly one consumer gets the request.
func testConsumeAuthRequestConcurrent(t *testing.T, f *fixture) {
	ctx, ar := t.Context(), f.s.AuthRequests()
	for round := range rounds {
		id := fmt.Sprintf("req-%d", round)
		must(t, ar.CreateAuthRequest(ctx, newAuthRequest(tenantA, id, f.now)))
		got := make([]*storage.AuthRequest, 6)
		errs := race(6, func(i int) error {
			r, err := ar.ConsumeAuthRequest(ctx, tenantA, id)
			got[i] = r
			return err
		})
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if got[i] == nil || got[i].ID != id || got[i].ClientID == "" {
					t.Fatalf("round %d: winner got %+v", round, got[i])
				}
			case errors.Is(err, storage.ErrNotFound):
			default:
				t.Fatalf("round %d: caller %d: %v", round, i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d of 6 concurrent consumers got the request, want 1", round, winners)
		}
		_, err := ar.AuthRequest(ctx, tenantA, id)
		wantNotFound(t, err)
	}
	_, err := ar.ConsumeAuthRequest(ctx, tenantB, "req-0")
	wantNotFound(t, err)
}
