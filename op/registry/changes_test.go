package registry

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// auditDown is a store whose audit log refuses every event.
type auditDown struct{ storage.Store }

func (s auditDown) Audit() storage.AuditLog { return refusingAuditLog{s.Store.Audit()} }

type refusingAuditLog struct{ storage.AuditLog }

func (refusingAuditLog) AppendAudit(context.Context, *storage.AuditEvent) error {
	return errors.New("audit log down")
}

// TestChangesReportedWithoutAudit: change reporting is not part of the
// audit helper: a change that is made is reported even when its audit
// event cannot be written (the call still fails, naming the unaudited
// change), so that no replica keeps serving what was changed.
func TestChangesReportedWithoutAudit(t *testing.T) {
	r := newTenant(t)
	if _, _, err := r.CreateClient(t.Context(), "acme", ClientSpec{ID: "svc", GrantTypes: []string{GrantClientCredentials}}); err != nil {
		t.Fatal(err)
	}
	var changed []string
	r = r.WithOnChange(func(_ context.Context, tenant string) { changed = append(changed, tenant) })
	r.Store = auditDown{r.Store}
	ctx := t.Context()
	steps := []struct {
		name string
		do   func() error
	}{
		{"disable tenant", func() error { _, err := r.DisableTenant(ctx, "acme"); return err }},
		{"update client", func() error {
			_, err := r.UpdateClient(ctx, "acme", "svc", ClientUpdate{Name: ptr("Service")})
			return err
		}},
		{"rotate secret", func() error { _, err := r.RotateClientSecret(ctx, "acme", "svc"); return err }},
		{"delete client", func() error { return r.DeleteClient(ctx, "acme", "svc") }},
		{"delete tenant", func() error { return r.DeleteTenant(ctx, "acme") }},
	}
	for i, step := range steps {
		if err := step.do(); err == nil {
			t.Fatalf("%s: succeeded although the audit log is down", step.name)
		}
		if len(changed) != i+1 || changed[i] != "acme" {
			t.Fatalf("%s: changes reported %v, want acme reported once more", step.name, changed)
		}
	}
}

// TestFailedChangeNotReported: nothing is reported for a change that was
// not made, and WithOnChange leaves the original registry's hook alone.
func TestFailedChangeNotReported(t *testing.T) {
	base := newTenant(t)
	var original, derived []string
	base.OnChange = func(_ context.Context, tenant string) { original = append(original, tenant) }
	r := base.WithOnChange(func(_ context.Context, tenant string) { derived = append(derived, tenant) })
	ctx := t.Context()
	if err := r.DeleteClient(ctx, "acme", "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete of an unknown client: %v", err)
	}
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{SigningAlgorithm: ptr("HS256")}); err == nil {
		t.Fatal("an invalid update succeeded")
	}
	if len(derived) != 0 {
		t.Fatalf("failed changes reported %v", derived)
	}
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{DisplayName: ptr("Acme Inc")}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(derived, []string{"acme"}) || len(original) != 0 {
		t.Fatalf("derived registry reported %v, original %v; want [acme] and none", derived, original)
	}
}
