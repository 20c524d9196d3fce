package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

// A record of a tenant that does not exist is refused: the foreign key
// that makes DeleteTenant cascade also keeps orphans out.
func TestUnknownTenantRefused(t *testing.T) {
	s := openStore(t, testOptions)
	defer s.Close()
	err := s.CreateClient(t.Context(), &storage.Client{TenantID: "ghost", ID: "web"})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateClient in unknown tenant: %v, want ErrNotFound", err)
	}
}

// Update closures run under SELECT ... FOR UPDATE: concurrent updates of one
// record queue instead of overwriting each other.
func TestConcurrentUpdatesAreSerialised(t *testing.T) {
	s := openStore(t, testOptions)
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateTenant(ctx, &storage.Tenant{Name: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const writers = 20
	errs := make(chan error, writers)
	for range writers {
		go func() {
			_, err := s.UpdateTenant(ctx, "acme", func(tn *storage.Tenant) error {
				tn.DisplayName += "x"
				return nil
			})
			errs <- err
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatalf("UpdateTenant: %v", err)
		}
	}
	got, err := s.Tenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.DisplayName) != writers {
		t.Fatalf("after %d concurrent appends DisplayName has %d characters: updates were lost", writers, len(got.DisplayName))
	}
}

// Errors end up in logs: they must name the tenant and the kind of record
// but never a code hash or token ID, not even from the server's own
// duplicate-key detail.
func TestErrorsHideCredentials(t *testing.T) {
	s := openStore(t, testOptions)
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateTenant(ctx, &storage.Tenant{Name: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const codeHash = "c0dehash-must-not-leak"
	const tokenID = "t0ken-id-must-not-leak"
	code := &storage.AuthCode{TenantID: "acme", CodeHash: codeHash, GrantID: "g", ClientID: "web",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	at := &storage.AccessToken{TenantID: "acme", ID: tokenID, GrantID: "g", ClientID: "web",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	rt := &storage.RefreshToken{TenantID: "acme", ID: tokenID, GrantID: "g", ClientID: "web",
		CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateAuthCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGrant(ctx, &storage.Grant{TenantID: "acme", ID: "g", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.IssueTokens(ctx, at, rt); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{
		"duplicate code":          s.CreateAuthCode(ctx, code),
		"duplicate tokens":        s.IssueTokens(ctx, at, rt),
		"rotate unknown":          s.RotateRefreshToken(ctx, "acme", "unknown-"+tokenID, now, nil, nil),
		"revoke grant of unknown": s.RevokeGrant(ctx, "acme", "", now),
	}
	_, errs["consume unknown code"] = s.ConsumeAuthCode(ctx, "acme", "unknown-"+codeHash, now)
	_, errs["unknown access token"] = s.AccessToken(ctx, "acme", "unknown-"+tokenID, now)
	_, errs["session"] = s.Session(ctx, "acme", tokenID, now)
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, codeHash) || strings.Contains(msg, tokenID) {
			t.Errorf("%s: error reveals a credential: %v", name, msg)
		}
	}
}

// Sweep deletes in bounded batches; it must keep going until every expired
// row is gone, and leave live rows alone.
func TestSweepDeletesEveryBatch(t *testing.T) {
	s, dbURL := openStoreURL(t, testOptions)
	defer s.Close()
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.CreateTenant(ctx, &storage.Tenant{Name: "acme", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	const expired, live = 2500, 10 // expired spans several batches
	seed := `INSERT INTO access_tokens (tenant_id, id, client_id, created_at, expires_at)
		SELECT 'acme', $1 || n, 'web', $2, $3 FROM generate_series(1, $4::int) n`
	if _, err := conn.Exec(ctx, seed, "expired-", now, now.Add(-time.Second), expired); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if _, err := conn.Exec(ctx, seed, "live-", now, now.Add(time.Hour), live); err != nil {
		t.Fatalf("seed: %v", err)
	}

	if err := s.Sweep(ctx, now); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	var left, kept int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE expires_at <= $1),
		count(*) FILTER (WHERE expires_at > $1) FROM access_tokens`, now).Scan(&left, &kept)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 || kept != live {
		t.Fatalf("after Sweep: %d expired rows left (want 0), %d live rows kept (want %d)", left, kept, live)
	}
}
