package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func newAuditEvent(id, target string, at time.Time) *storage.AuditEvent {
	return &storage.AuditEvent{
		ID:           id,
		Time:         at,
		ActorTenant:  "system",
		Actor:        "admin-cli-1",
		Action:       "client.create",
		TargetTenant: target,
		TargetType:   "client",
		TargetID:     "web-" + id,
		Details:      map[string]any{"redirect_uris": []any{"https://rp.example/cb"}, "first_party": true, "count": float64(2)},
	}
}

// ids lists the events' IDs in order.
func ids(events []*storage.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func wantAudit(t *testing.T, log storage.AuditLog, tenant string, limit int, want ...string) []*storage.AuditEvent {
	t.Helper()
	got, err := log.ListAudit(t.Context(), tenant, limit)
	must(t, err)
	if fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("ListAudit(%q, %d) = %v, want %v", tenant, limit, ids(got), want)
	}
	return got
}

func testAudit(t *testing.T, f *fixture) {
	ctx, log := t.Context(), f.s.Audit()

	// Appended out of time order; ev-3 and ev-4 share a time, so insertion
	// order decides between them. They lie an hour ahead, so that the
	// events stamped with the wall clock below are older.
	base := f.now.Add(time.Hour)
	events := []*storage.AuditEvent{
		newAuditEvent("ev-2", tenantA, base.Add(2*time.Second)),
		newAuditEvent("ev-1", tenantB, base.Add(1*time.Second)),
		newAuditEvent("ev-3", tenantA, base.Add(3*time.Second)),
		newAuditEvent("ev-4", tenantB, base.Add(3*time.Second)),
		newAuditEvent("ev-5", tenantA, base.Add(5*time.Second)),
	}
	for _, e := range events {
		must(t, log.AppendAudit(ctx, e))
	}
	all := wantAudit(t, log, "", 0, "ev-5", "ev-4", "ev-3", "ev-2", "ev-1")
	equal(t, all[1], events[3])
	wantAudit(t, log, tenantA, 0, "ev-5", "ev-3", "ev-2")
	wantAudit(t, log, tenantB, -1, "ev-4", "ev-1")
	wantAudit(t, log, "", 2, "ev-5", "ev-4")
	wantAudit(t, log, tenantA, 1, "ev-5")
	wantAudit(t, log, "nobody", 10)

	wantErr(t, log.AppendAudit(ctx, newAuditEvent("ev-1", tenantA, f.now)), storage.ErrAlreadyExists)

	// The backend assigns an ID and a time when the caller leaves them
	// empty; events need no details.
	before := time.Now()
	anon := &storage.AuditEvent{Actor: "cli", Action: "tenant.delete", TargetTenant: tenantA, TargetType: "tenant", TargetID: tenantA}
	must(t, log.AppendAudit(ctx, anon))
	if anon.ID == "" || anon.Time.Before(before.Add(-time.Second)) {
		t.Fatalf("AppendAudit did not fill in ID and Time: %+v", anon)
	}
	other := &storage.AuditEvent{Actor: "cli", Action: "tenant.delete", TargetTenant: tenantA, Time: f.now.Add(-time.Hour)}
	must(t, log.AppendAudit(ctx, other))
	if other.ID == "" || other.ID == anon.ID {
		t.Fatalf("generated IDs %q and %q are not distinct", anon.ID, other.ID)
	}

	// Events about a tenant outlive it, and events may name tenants that
	// never existed.
	must(t, f.s.Tenants().DeleteTenant(ctx, tenantA))
	got := wantAudit(t, log, tenantA, 0, "ev-5", "ev-3", "ev-2", anon.ID, other.ID)
	// A stamped time is stored with the backend's precision (at least
	// milliseconds), which may be less than the clock's.
	stored := *got[3]
	if d := stored.Time.Sub(anon.Time).Abs(); d >= time.Millisecond {
		t.Fatalf("stored time %v, stamped %v", stored.Time, anon.Time)
	}
	stored.Time = anon.Time
	equal(t, &stored, anon)
	must(t, f.s.Tenants().CreateTenant(ctx, newTenant(tenantA, f.now)))
	wantAudit(t, log, tenantA, 1, "ev-5")
	must(t, log.AppendAudit(ctx, newAuditEvent("ev-ghost", "ghost", f.now)))
	wantAudit(t, log, "ghost", 0, "ev-ghost")
}

// ListAudit's limit: ≤ 0 means storage.DefaultAuditLimit, and no call
// returns more than storage.MaxAuditLimit.
func testAuditLimits(t *testing.T, f *fixture) {
	ctx, log := t.Context(), f.s.Audit()
	const target = "bulk"
	n := storage.MaxAuditLimit + 1
	// Appended by concurrent writers, as replicas would.
	const writers = 10
	for i, err := range race(writers, func(w int) error {
		for i := w; i < n; i += writers {
			e := newAuditEvent(fmt.Sprintf("bulk-%04d", i), target, f.now.Add(time.Duration(i)*time.Millisecond))
			if err := log.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}) {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	tests := []struct{ limit, want int }{
		{0, storage.DefaultAuditLimit},
		{-5, storage.DefaultAuditLimit},
		{7, 7},
		{storage.MaxAuditLimit, storage.MaxAuditLimit},
		{storage.MaxAuditLimit + 500, storage.MaxAuditLimit},
	}
	for _, tc := range tests {
		got, err := log.ListAudit(ctx, target, tc.limit)
		must(t, err)
		if len(got) != tc.want {
			t.Fatalf("ListAudit(limit %d) returned %d events, want %d", tc.limit, len(got), tc.want)
		}
		if got[0].ID != fmt.Sprintf("bulk-%04d", n-1) {
			t.Fatalf("ListAudit(limit %d) starts with %s, want the newest", tc.limit, got[0].ID)
		}
	}
}
