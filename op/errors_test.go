package op

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// secretCause stands for driver text that must never reach a response.
const secretCause = "sql: connection to 10.0.0.7 refused"

// written is what the library sends for err (zop.WriteError, the writer
// of the token, userinfo and introspection endpoints): status and body.
func written(t *testing.T, err error) (int, map[string]string) {
	t.Helper()
	w := httptest.NewRecorder()
	zop.WriteError(w, httptest.NewRequest(http.MethodPost, "/token", nil), err, nil)
	var body map[string]string
	if jerr := json.Unmarshal(w.Body.Bytes(), &body); jerr != nil {
		t.Fatalf("body %q: %v", w.Body, jerr)
	}
	return w.Code, body
}

func TestErrorMapping(t *testing.T) {
	ctx := context.Background()
	notFound := &storage.NotFoundError{Record: storage.Record{Kind: storage.KindClient, ID: "web"}}
	outage := fmt.Errorf("postgres: %w: %w", storage.ErrUnavailable, errors.New(secretCause))
	failure := errors.New(secretCause)
	for _, tc := range []struct {
		name       string
		err        error
		wantType   string
		wantStatus int
	}{
		{"storageError: not found", storageError(ctx, "client", notFound), "invalid_request", http.StatusBadRequest},
		{"storageError: outage", storageError(ctx, "client", outage), temporarilyUnavailable, http.StatusServiceUnavailable},
		{"storageError: deadline", storageError(ctx, "client", context.DeadlineExceeded), temporarilyUnavailable, http.StatusServiceUnavailable},
		{"storageError: hasher busy", storageError(ctx, "client", password.ErrBusy), temporarilyUnavailable, http.StatusServiceUnavailable},
		{"storageError: other", storageError(ctx, "client", failure), "server_error", http.StatusInternalServerError},
		{"storageError: already an OAuth error", storageError(ctx, "client", oidc.ErrInvalidScope()), "invalid_scope", http.StatusBadRequest},
		{"invalidGrant: not found", invalidGrant(ctx, "code", notFound), "invalid_grant", http.StatusBadRequest},
		{"invalidGrant: already used", invalidGrant(ctx, "code", storage.ErrAlreadyUsed), "invalid_grant", http.StatusBadRequest},
		{"invalidGrant: outage", invalidGrant(ctx, "code", outage), temporarilyUnavailable, http.StatusServiceUnavailable},
		{"invalidGrant: other", invalidGrant(ctx, "code", failure), "server_error", http.StatusInternalServerError},
		{"grantUserError: disabled", grantUserError(ctx, nil), "invalid_grant", http.StatusBadRequest},
		{"grantUserError: deleted", grantUserError(ctx, notFound), "invalid_grant", http.StatusBadRequest},
		{"grantUserError: other", grantUserError(ctx, failure), "server_error", http.StatusInternalServerError},
		{"clientLookupError: unknown", clientLookupError(ctx, notFound), "invalid_client", http.StatusBadRequest},
		{"clientLookupError: outage", clientLookupError(ctx, outage), temporarilyUnavailable, http.StatusServiceUnavailable},
		{"invalidClient", invalidClient(), "invalid_client", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := written(t, tc.err)
			if body["error"] != tc.wantType {
				t.Errorf("error = %q, want %q", body["error"], tc.wantType)
			}
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			for k, v := range body {
				if strings.Contains(v, "sql:") || strings.Contains(v, "10.0.0.7") {
					t.Errorf("%s %q leaks the cause", k, v)
				}
			}
		})
	}
	if err := storageError(ctx, "client", nil); err != nil {
		t.Errorf("storageError(nil) = %v, want nil", err)
	}
}
