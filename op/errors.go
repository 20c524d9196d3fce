package op

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/herald-idp/herald/op/login"
	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
)

// errTemporarilyUnavailable is the OAuth error for an overloaded or
// unreachable dependency (RFC 6749 §4.1.2.1 temporarily_unavailable).
const temporarilyUnavailable = "temporarily_unavailable"

// invalidGrant maps a failed lookup of a code or refresh token to
// invalid_grant, logging the cause; the client learns nothing more.
func invalidGrant(ctx context.Context, what string, err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyUsed) {
		return oidc.ErrInvalidGrant().WithDescription("%s is invalid, expired or was already used", what)
	}
	return storageError(ctx, what, err)
}

// serverError logs err and returns a server_error whose description says
// nothing of the cause: Go error text never reaches a response (checklist K2).
func serverError(ctx context.Context, what string, err error) *oidc.Error {
	slog.ErrorContext(ctx, "internal error", "op", what, "error", err)
	return oidc.ErrServerError().WithDescription("internal error")
}

// invalidClient is the uniform answer to failed client authentication:
// unknown client and wrong secret are indistinguishable (RFC 6749 §5.2,
// 401 so that clients using HTTP Basic see a challenge).
func invalidClient() error {
	return zop.NewStatusError(clientAuthFailed(), http.StatusUnauthorized)
}

// clientAuthFailed is invalidClient's error without the status, for the
// zitadel adapter methods that must return an *oidc.Error.
func clientAuthFailed() *oidc.Error {
	return oidc.ErrInvalidClient().WithDescription("client authentication failed")
}

// clientLookupError maps a failed lookup of the client a request names
// (outside client authentication): an unknown client_id is invalid_client
// (RFC 6749 §4.1.2.1 forbids redirecting to an unverified client).
func clientLookupError(ctx context.Context, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	return storageError(ctx, "client", err)
}

// grantUserError is the answer when the user a code or refresh token was
// issued to is gone: deleted (err matches storage.ErrNotFound) or disabled
// (err nil) ends the grant with invalid_grant (RFC 6749 §5.2); any other
// error is a storage failure.
func grantUserError(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the user of this grant no longer exists or is disabled")
	}
	return storageError(ctx, "user", err)
}

// storageError maps any storage error to an OAuth error, so that the
// library never turns err.Error() into a response description. An
// unreachable or overloaded backend is a 503 temporarily_unavailable (the
// client may retry), not a 500.
func storageError(ctx context.Context, what string, err error) error {
	var oe *oidc.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &oe):
		return oe
	case errors.Is(err, storage.ErrNotFound):
		return oidc.ErrInvalidRequest().WithDescription("%s not found", what)
	case errors.Is(err, password.ErrBusy), errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		slog.WarnContext(ctx, "dependency unavailable", "op", what, "error", err)
		return zop.NewStatusError(&oidc.Error{ErrorType: temporarilyUnavailable, Description: "the service is temporarily unavailable, try again shortly"}, http.StatusServiceUnavailable)
	default:
		return serverError(ctx, what, err)
	}
}

// tenantFound answers a failed tenant lookup (by path or by host) and
// reports whether the request may go on: unknown (or disabled) → 404
// not_found with the description unknown; a storage failure → 503
// temporarily_unavailable, the cause logged only. A browser (login.WantsHTML)
// gets the same status as an HTML page naming the tenant or host (param,
// value) it asked for.
func (s *Server) tenantFound(w http.ResponseWriter, r *http.Request, err error, unknown, param, value string) bool {
	if err == nil {
		return true
	}
	w.Header().Add("Vary", "Accept")
	html := login.WantsHTML(r)
	switch {
	case errors.Is(err, storage.ErrNotFound) && html:
		s.login.UnknownTenantPage(w, r, param, value)
	case errors.Is(err, storage.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "not_found", unknown)
	default:
		serverError(r.Context(), "resolve tenant", err)
		if html {
			s.login.UnavailablePage(w, r)
			return false
		}
		writeJSONError(w, http.StatusServiceUnavailable, temporarilyUnavailable, "storage unavailable")
	}
	return false
}

// notFound answers a path nothing serves, under a tenant or not: an HTML
// page for a browser (in the tenant's look), JSON for anyone else.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	if login.WantsHTML(r) {
		s.login.NotFoundPage(w, r)
		return
	}
	writeJSONError(w, http.StatusNotFound, "not_found", "no such endpoint")
}
