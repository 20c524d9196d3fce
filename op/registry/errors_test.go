package registry

import (
	"errors"
	"testing"

	"github.com/herald-idp/herald/storage"
)

// wantNotFound fails unless err is a *storage.NotFoundError naming want
// (and still matching the sentinel).
func wantNotFound(t *testing.T, err error, want storage.Record) {
	t.Helper()
	var nf *storage.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want a *storage.NotFoundError for %v, got %T %v", want, err, err)
	}
	if nf.Record != want {
		t.Errorf("not found: record %+v, want %+v", nf.Record, want)
	}
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("%v does not match storage.ErrNotFound", err)
	}
}

// wantConflict fails unless err is a *storage.ConflictError naming want and
// field (and still matching ErrAlreadyExists).
func wantConflict(t *testing.T, err error, want storage.Record, field string) *storage.ConflictError {
	t.Helper()
	var ce *storage.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *storage.ConflictError for %v, got %T %v", want, err, err)
	}
	if ce.Record != want {
		t.Errorf("conflict: record %+v, want %+v", ce.Record, want)
	}
	if ce.Field != field {
		t.Errorf("conflict: field %q, want %q", ce.Field, field)
	}
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("%v does not match storage.ErrAlreadyExists", err)
	}
	return ce
}

func TestNotFoundErrorsNameTheRecord(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()
	tenantNope := storage.Record{Kind: storage.KindTenant, ID: "nope"}
	clientNope := storage.Record{Kind: storage.KindClient, Tenant: "acme", ID: "nope"}
	userNope := storage.Record{Kind: storage.KindUser, Tenant: "acme", ID: "nope"}

	_, err := r.GetTenant(ctx, "nope")
	wantNotFound(t, err, tenantNope)
	if got := err.Error(); got != `tenant "nope" not found` {
		t.Errorf("message %q", got)
	}
	_, err = r.UpdateTenant(ctx, "nope", TenantUpdate{DisplayName: ptr("x")})
	wantNotFound(t, err, tenantNope)
	_, err = r.ListClients(ctx, "nope")
	wantNotFound(t, err, tenantNope)
	_, err = r.ListKeys(ctx, "nope")
	wantNotFound(t, err, tenantNope)

	_, err = r.GetClient(ctx, "acme", "nope")
	wantNotFound(t, err, clientNope)
	if got := err.Error(); got != `client "nope" in tenant "acme" not found` {
		t.Errorf("message %q", got)
	}
	_, err = r.UpdateClient(ctx, "acme", "nope", ClientUpdate{Name: ptr("x")})
	wantNotFound(t, err, clientNope)
	_, err = r.RotateClientSecret(ctx, "acme", "nope")
	wantNotFound(t, err, clientNope)
	wantNotFound(t, r.DeleteClient(ctx, "acme", "nope"), clientNope)

	_, err = r.GetUser(ctx, "acme", "nope")
	wantNotFound(t, err, userNope)
	wantNotFound(t, r.SetPassword(ctx, "acme", "nope", "correct horse battery"), userNope)
	wantNotFound(t, r.DeleteUser(ctx, "acme", "nope"), userNope)
}

func TestConflictErrorsNameTheRecordAndField(t *testing.T) {
	r := newTenant(t)
	ctx := t.Context()

	_, err := r.CreateTenant(ctx, TenantSpec{Name: "acme"})
	ce := wantConflict(t, err, storage.Record{Kind: storage.KindTenant, ID: "acme"}, "")
	if got := ce.Error(); got != `tenant "acme" already exists` {
		t.Errorf("message %q", got)
	}

	if _, _, err := r.CreateClient(ctx, "acme", ClientSpec{ID: "web", Public: true, RedirectURIs: []string{"http://localhost/cb"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.CreateClient(ctx, "acme", ClientSpec{ID: "web", Public: true, RedirectURIs: []string{"http://localhost/cb"}})
	wantConflict(t, err, storage.Record{Kind: storage.KindClient, Tenant: "acme", ID: "web"}, "")

	if _, err := r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	_, err = r.CreateUser(ctx, "acme", UserSpec{Username: "alice", Password: "correct horse battery"})
	wantConflict(t, err, storage.Record{Kind: storage.KindUser, Tenant: "acme", ID: "alice"}, "")

	// A taken hostname names the field, the hostname and its owner.
	if _, err := r.UpdateTenant(ctx, "acme", TenantUpdate{Hostnames: &[]string{"login.acme.test"}}); err != nil {
		t.Fatal(err)
	}
	_, err = r.CreateTenant(ctx, TenantSpec{Name: "beta", Hostnames: []string{"login.acme.test"}})
	ce = wantConflict(t, err, storage.Record{Kind: storage.KindTenant, ID: "beta"}, "hostnames")
	if want := `hostname "login.acme.test" is claimed by tenant "acme"`; ce.Message != want {
		t.Errorf("hostname conflict message %q, want %q", ce.Message, want)
	}
	if !errors.Is(err, storage.ErrHostnameTaken) {
		t.Errorf("%v does not match storage.ErrHostnameTaken", err)
	}
}

// The store's own unique constraint (a race the registry's check cannot
// see) still yields a typed conflict on the field.
func TestStoreErrorTypesSentinels(t *testing.T) {
	rec := storage.Record{Kind: storage.KindTenant, ID: "beta"}
	wrapped := errors.Join(errors.New("unique violation"), storage.ErrHostnameTaken)
	ce := wantConflict(t, storeError(wrapped, rec), rec, "hostnames")
	if ce.Message == "" {
		t.Error("hostname conflict without a message")
	}
	wantNotFound(t, storeError(storage.ErrNotFound, rec), rec)
	// An error that already names its record keeps it.
	inner := &storage.NotFoundError{Record: storage.Record{Kind: storage.KindClient, Tenant: "acme", ID: "web"}}
	wantNotFound(t, storeError(inner, rec), inner.Record)
	// Anything else keeps its text and says what it concerns.
	other := errors.New("connection reset")
	if err := storeError(other, rec); !errors.Is(err, other) || err.Error() != `tenant "beta": connection reset` {
		t.Errorf("other error: %v", err)
	}
}

func TestValidationErrorNamesTheField(t *testing.T) {
	r := newTenant(t)
	_, _, err := r.CreateClient(t.Context(), "acme", ClientSpec{ID: "web", Public: true, RedirectURIs: []string{"ftp://x.test/cb"}})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "redirect_uris" || ve.Message == "" {
		t.Fatalf("want a *ValidationError on redirect_uris, got %T %v", err, err)
	}
}
