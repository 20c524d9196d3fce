package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// testUserSessions: the account page lists a user's live sessions with
// their user-agent label and last use; nobody else's, no expired ones.
func testUserSessions(t *testing.T, f *fixture) {
	ctx, ss := t.Context(), f.s.Sessions()
	now := f.now

	list := func(tenant, user string, at time.Time) []string {
		t.Helper()
		got, err := ss.ListUserSessions(ctx, tenant, user, at)
		must(t, err)
		var ids []string
		for _, s := range got {
			if s.TenantID != tenant || s.UserID != user {
				t.Fatalf("ListUserSessions(%s, %s) returned %+v", tenant, user, s)
			}
			ids = append(ids, s.ID)
		}
		return ids
	}
	if ids := list(tenantA, "user-1", now); len(ids) != 0 {
		t.Fatalf("no sessions yet, listed %v", ids)
	}

	older := newSession(tenantA, "sess-older", "user-1", now.Add(-time.Hour))
	older.IdleExpiresAt = now.Add(30 * time.Minute)
	must(t, ss.CreateSession(ctx, older))
	newer := newSession(tenantA, "sess-newer", "user-1", now)
	newer.UserAgent = "Safari on iOS"
	must(t, ss.CreateSession(ctx, newer))
	short := newSession(tenantA, "sess-short", "user-1", now.Add(-time.Minute))
	short.IdleExpiresAt = now.Add(time.Minute)
	must(t, ss.CreateSession(ctx, short))
	must(t, ss.CreateSession(ctx, newSession(tenantA, "sess-other-user", "user-2", now)))
	must(t, ss.CreateSession(ctx, newSession(tenantB, "sess-other-tenant", "user-1", now)))

	if got, want := list(tenantA, "user-1", now), []string{"sess-newer", "sess-short", "sess-older"}; !slices.Equal(got, want) {
		t.Fatalf("sessions = %v, want %v (newest first)", got, want)
	}
	// Expired on the caller's clock: not listed.
	if got, want := list(tenantA, "user-1", now.Add(2*time.Minute)), []string{"sess-newer", "sess-older"}; !slices.Equal(got, want) {
		t.Fatalf("sessions 2 min later = %v, want %v", got, want)
	}
	got, err := ss.ListUserSessions(ctx, tenantA, "user-1", now)
	must(t, err)
	equal(t, got[0], newer)

	// A touch records the use.
	used := now.Add(5 * time.Minute)
	must(t, ss.TouchSession(ctx, tenantA, "sess-older", used, used.Add(30*time.Minute)))
	s, err := ss.Session(ctx, tenantA, "sess-older", used)
	must(t, err)
	if !s.LastUsedAt.Equal(used) || !s.LastUsed().Equal(used) {
		t.Fatalf("LastUsedAt after touch = %v, want %v", s.LastUsedAt, used)
	}
	if s.UserAgent != "Firefox on Linux" {
		t.Fatalf("UserAgent = %q", s.UserAgent)
	}

	// Without LastUsedAt, the creation counts as the last use.
	fresh := newSession(tenantA, "sess-fresh", "user-3", now)
	fresh.LastUsedAt = time.Time{}
	must(t, ss.CreateSession(ctx, fresh))
	s, err = ss.Session(ctx, tenantA, "sess-fresh", now)
	must(t, err)
	if !s.LastUsed().Equal(now) {
		t.Fatalf("LastUsed of a new session = %v, want its creation %v", s.LastUsed(), now)
	}

	// A long label is cut, at a rune boundary.
	long := newSession(tenantA, "sess-long", "user-3", now)
	long.UserAgent = strings.Repeat("é", storage.MaxSessionUserAgent)
	must(t, ss.CreateSession(ctx, long))
	s, err = ss.Session(ctx, tenantA, "sess-long", now)
	must(t, err)
	if len(s.UserAgent) > storage.MaxSessionUserAgent || !strings.HasPrefix(long.UserAgent, s.UserAgent) || s.UserAgent == "" {
		t.Fatalf("long user agent stored as %q (%d bytes)", s.UserAgent, len(s.UserAgent))
	}

	// Deleted sessions leave the list; other users' and tenants' stay.
	must(t, ss.DeleteSession(ctx, tenantA, "sess-newer"))
	if got, want := list(tenantA, "user-1", now), []string{"sess-short", "sess-older"}; !slices.Equal(got, want) {
		t.Fatalf("after delete: %v, want %v", got, want)
	}
	must(t, ss.DeleteUserSessions(ctx, tenantA, "user-1"))
	if got := list(tenantA, "user-1", now); len(got) != 0 {
		t.Fatalf("after DeleteUserSessions: %v", got)
	}
	if got := list(tenantA, "user-2", now); !slices.Equal(got, []string{"sess-other-user"}) {
		t.Fatalf("user-2's sessions = %v", got)
	}
	if got := list(tenantB, "user-1", now); !slices.Equal(got, []string{"sess-other-tenant"}) {
		t.Fatalf("tenant B's sessions = %v", got)
	}
}

// testUserConsents: the account page lists the user's consents, one per
// client, and withdrawing one leaves the others.
func testUserConsents(t *testing.T, f *fixture) {
	ctx, cs := t.Context(), f.s.Consents()
	got, err := cs.ListUserConsents(ctx, tenantA, "user-1")
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("no consents yet, listed %+v", got)
	}
	for _, c := range []*storage.Consent{
		{TenantID: tenantA, UserID: "user-1", ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: f.now},
		{TenantID: tenantA, UserID: "user-1", ClientID: "app", Scopes: []string{"openid", "email"}, UpdatedAt: f.now.Add(time.Minute)},
		{TenantID: tenantA, UserID: "user-2", ClientID: "web", Scopes: []string{"openid"}, UpdatedAt: f.now},
		{TenantID: tenantB, UserID: "user-1", ClientID: "zzz", Scopes: []string{"openid"}, UpdatedAt: f.now},
	} {
		must(t, cs.GrantConsent(ctx, c))
	}
	got, err = cs.ListUserConsents(ctx, tenantA, "user-1")
	must(t, err)
	if len(got) != 2 || got[0].ClientID != "app" || got[1].ClientID != "web" {
		t.Fatalf("consents = %+v, want app and web in that order", got)
	}
	equal(t, got[0], &storage.Consent{TenantID: tenantA, UserID: "user-1", ClientID: "app",
		Scopes: []string{"openid", "email"}, UpdatedAt: f.now.Add(time.Minute)})

	must(t, cs.RevokeConsent(ctx, tenantA, "user-1", "app"))
	got, err = cs.ListUserConsents(ctx, tenantA, "user-1")
	must(t, err)
	if len(got) != 1 || got[0].ClientID != "web" {
		t.Fatalf("after withdrawing app: %+v", got)
	}
	got, err = cs.ListUserConsents(ctx, tenantB, "user-1")
	must(t, err)
	if len(got) != 1 || got[0].ClientID != "zzz" {
		t.Fatalf("tenant B's consents: %+v", got)
	}
}

// testRevokeUserGrantsExcept: a password change keeps the grants of the
// session it was made in and revokes every other grant of the user,
// offline ones included.
func testRevokeUserGrantsExcept(t *testing.T, f *fixture) {
	ctx, gs := t.Context(), f.s.Grants()
	mk := func(tenant, id, user, session string) {
		g := newGrant(tenant, id, f.now)
		g.UserID, g.SessionID = user, session
		must(t, gs.CreateGrant(ctx, g))
	}
	mk(tenantA, "keep", "user-1", "s-current")
	mk(tenantA, "keep-2", "user-1", "s-current")
	mk(tenantA, "other-session", "user-1", "s-other")
	mk(tenantA, "offline", "user-1", "")
	mk(tenantA, "other-user", "user-2", "s-x")
	mk(tenantA, "other-user-same-session", "user-2", "s-current")
	mk(tenantB, "other-tenant", "user-1", "s-other")

	must(t, gs.RevokeUserGrantsExcept(ctx, tenantA, "user-1", "s-current", f.now))
	for tenant, want := range map[string]map[string]bool{
		tenantA: {"keep": true, "keep-2": true, "other-session": false, "offline": false,
			"other-user": true, "other-user-same-session": true},
		tenantB: {"other-tenant": true},
	} {
		for id, live := range want {
			g, err := gs.Grant(ctx, tenant, id)
			must(t, err)
			if g.Live(f.now) != live {
				t.Errorf("grant %s/%s live = %v, want %v", tenant, id, !live, live)
			}
		}
	}
	// Empty keys would match too much: refused.
	if err := gs.RevokeUserGrantsExcept(ctx, tenantA, "", "s-current", f.now); err == nil {
		t.Error("empty user: no error")
	}
	if err := gs.RevokeUserGrantsExcept(ctx, tenantA, "user-2", "", f.now); err == nil {
		t.Error("empty session: no error")
	}
	g, err := gs.Grant(ctx, tenantA, "other-user")
	must(t, err)
	if !g.Live(f.now) {
		t.Error("a refused call revoked a grant")
	}
}
