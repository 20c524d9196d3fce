package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func newAuthEvent(tenant, event, user string, at time.Time) *storage.AuthEvent {
	return &storage.AuthEvent{
		Time: at, Tenant: tenant, Event: event, UserID: user, UsernameHash: "uh-" + user,
		ClientID: "web", Address: "addr-hash", Device: "dev-hash", UserAgent: "Mozilla/5.0",
		RequestID: "req-1", Outcome: "failure", Reason: "wrong_password",
	}
}

func seqs(events []*storage.AuthEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Event + "/" + e.UserID
	}
	return out
}

func wantAuthEvents(t *testing.T, f *fixture, tenant string, filter storage.AuthEventFilter, want ...string) []*storage.AuthEvent {
	t.Helper()
	got, err := f.s.AuthEvents().ListAuthEvents(t.Context(), tenant, filter)
	must(t, err)
	if fmt.Sprint(seqs(got)) != fmt.Sprint(want) {
		t.Fatalf("ListAuthEvents(%q, %+v) = %v, want %v", tenant, filter, seqs(got), want)
	}
	return got
}

// testAuthEvents: events round-trip, list newest first per tenant, filter
// by event, user and time, page with Before, and are swept by age.
func testAuthEvents(t *testing.T, f *fixture) {
	ae := f.s.AuthEvents()
	first := newAuthEvent(tenantA, storage.EventLoginFailed, "u1", f.now.Add(-2*time.Hour))
	must(t, ae.AppendAuthEvent(t.Context(), first))
	if first.ID == "" || first.Seq == 0 {
		t.Fatalf("append did not fill ID and Seq: %+v", first)
	}
	for _, e := range []*storage.AuthEvent{
		newAuthEvent(tenantA, storage.EventLoginSucceeded, "u1", f.now.Add(-time.Hour)),
		newAuthEvent(tenantA, storage.EventLoginFailed, "u2", f.now),
		newAuthEvent(tenantB, storage.EventLoginFailed, "u1", f.now),
	} {
		must(t, ae.AppendAuthEvent(t.Context(), e))
	}
	got := wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{},
		"login.failed/u2", "login.succeeded/u1", "login.failed/u1")
	if *got[2] != *first {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got[2], *first)
	}
	wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{Event: storage.EventLoginFailed}, "login.failed/u2", "login.failed/u1")
	wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{UserID: "u1"}, "login.succeeded/u1", "login.failed/u1")
	wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{Since: f.now.Add(-time.Hour), Until: f.now}, "login.succeeded/u1")
	page := wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{Limit: 2}, "login.failed/u2", "login.succeeded/u1")
	wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{Limit: 2, Before: page[1].Seq}, "login.failed/u1")
	wantAuthEvents(t, f, "nobody", storage.AuthEventFilter{})

	n, err := ae.DeleteAuthEventsBefore(t.Context(), f.now.Add(-90*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteAuthEventsBefore removed %d, want 1", n)
	}
	wantAuthEvents(t, f, tenantA, storage.AuthEventFilter{}, "login.failed/u2", "login.succeeded/u1")
}
