package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// The mapping of storage errors to pages and redirects is decided in one
// place (errors.go); these tests drive handleAuthorize with a provider and
// a store that fail on demand. Unit tests of the mapping only: the real
// outage (Redis stopped) is cmd/herald's TestRedisOutage.

// secretText stands for driver detail that must never reach a response.
const secretText = "pq: relation secret_table at 10.0.0.7:5432"

var (
	errOutage  = fmt.Errorf("redis: create auth request: %w: %w", storage.ErrUnavailable, io.ErrUnexpectedEOF)
	errFailure = errors.New(secretText)
)

// failingProvider is fakeProvider whose Client answers clientErr.
type failingProvider struct {
	fakeProvider
	clientErr error
}

func (f failingProvider) Client(_ context.Context, id string) (*storage.Client, error) {
	if f.clientErr != nil {
		return nil, f.clientErr
	}
	return &storage.Client{ID: id, AuthMethod: storage.AuthMethodBasic, ApplicationType: storage.AppTypeWeb,
		RedirectURIs: []string{"https://rp.example/cb"}, GrantTypes: []string{grantAuthorizationCode}}, nil
}

func (failingProvider) RequestID(context.Context) string { return "req-42" }

func (failingProvider) ClientAddress(*http.Request) netip.Addr {
	return netip.MustParseAddr("127.0.0.9")
}

func (failingProvider) RecordAuthEvent(*http.Request, AuthEvent) {}

// failingStore fails every CreateAuthRequest with err; only the
// authorization-request cap is reached before it.
type failingStore struct {
	storage.Store // nil: any other call panics
	err           error
}

func (s failingStore) AuthRequests() storage.AuthRequests { return failingAuthRequests{err: s.err} }

// LoginAttempts lets the per-address cap on authorization requests pass, so
// that CreateAuthRequest is reached.
func (s failingStore) LoginAttempts() storage.LoginAttempts { return allowingAttempts{} }

type allowingAttempts struct{ storage.LoginAttempts }

func (allowingAttempts) Attempt(context.Context, string, string, time.Time, storage.ThrottleRule) (storage.ThrottleDecision, error) {
	return storage.ThrottleDecision{Allowed: true, Count: 1}, nil
}

type failingAuthRequests struct {
	storage.AuthRequests
	err error
}

func (a failingAuthRequests) CreateAuthRequest(context.Context, *storage.AuthRequest) error {
	return a.err
}

func authorizeWith(t *testing.T, clientErr, storeErr error) *http.Response {
	t.Helper()
	h := New(Config{
		Provider:            failingProvider{fakeProvider: fakeProvider{scopes: []string{"openid"}}, clientErr: clientErr},
		Store:               failingStore{err: storeErr},
		AuthRequestLifetime: time.Minute,
	})
	q := url.Values{"client_id": {"web"}, "redirect_uri": {"https://rp.example/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st"}}
	w := httptest.NewRecorder()
	h.handleAuthorize(w, httptest.NewRequest(http.MethodGet, "/t/acme/authorize?"+q.Encode(), nil))
	return w.Result()
}

func TestAuthorizeStoreErrorRedirect(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantCode string
	}{
		{"outage is temporarily_unavailable", errOutage, codeTemporarilyUnavailable},
		{"deadline is temporarily_unavailable", fmt.Errorf("create: %w", context.DeadlineExceeded), codeTemporarilyUnavailable},
		{"other failure is server_error, not an outage", errFailure, codeServerError},
		{"not found is not an outage", &storage.NotFoundError{Record: storage.Record{Kind: storage.KindTenant, ID: "acme"}}, codeServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := authorizeWith(t, nil, tc.err)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want 303 to the verified redirect URI", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if got := q.Get("error"); got != tc.wantCode {
				t.Errorf("error = %q, want %q", got, tc.wantCode)
			}
			if got := q.Get("state"); got != "st" {
				t.Errorf("state = %q, want %q", got, "st")
			}
			if d := q.Get("error_description"); strings.Contains(d, "secret") || strings.Contains(d, "redis") {
				t.Errorf("error_description %q leaks the storage error", d)
			}
		})
	}
}

func TestAuthorizeClientErrorPage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		wantStatus int
		wantTitle  string
	}{
		{"unknown client", &storage.NotFoundError{Record: storage.Record{Kind: storage.KindClient, Tenant: "acme", ID: "web"}},
			http.StatusBadRequest, errUnknownClient.title},
		{"outage", errOutage, http.StatusServiceUnavailable, errUnavailable.title},
		{"hasher busy", password.ErrBusy, http.StatusServiceUnavailable, errBusy.title},
		{"other failure", errFailure, http.StatusInternalServerError, errInternal.title},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := authorizeWith(t, tc.err, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s: the client was not verified", loc)
			}
			if !strings.Contains(string(body), tc.wantTitle) {
				t.Errorf("page does not say %q:\n%s", tc.wantTitle, body)
			}
			if !strings.Contains(string(body), "req-42") {
				t.Errorf("page does not show the request ID:\n%s", body)
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "redis") {
				t.Errorf("page leaks the storage error:\n%s", body)
			}
		})
	}
}

// TestCancelledRequestIsNoInternalError: a storage call that fails because
// the browser went away is neither an internal error (the 500 page,
// server_error, an ERROR log line) nor reported as one.
func TestCancelledRequestIsNoInternalError(t *testing.T) {
	h := &Handler{}
	err := fmt.Errorf("sqlite: begin: %w", context.Canceled)
	if got := h.pageFor(context.Background(), "login: throttle", err, pageError{}); got == errInternal {
		t.Errorf("page for a cancelled request = the internal-error page")
	}
	if got := storageAuthError(context.Background(), "authorize", err); got == errServer {
		t.Errorf("redirect error for a cancelled request = server_error")
	}
}
