package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/herald-idp/herald/op/password"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// This file is the one place the browser flow's errors are defined: the
// HTML error pages (shown on Herald's own origin whenever the redirect URI
// cannot be trusted or there is no client to tell) and the OAuth error
// codes sent back to a verified redirect URI. Page texts never carry Go
// error text (checklist K2); the request ID lets support find the log lines.

// pageError is an error page: its status, title and message.
type pageError struct {
	status         int
	title, message string
}

var (
	errUnavailable = pageError{http.StatusServiceUnavailable, "Please try again",
		"The sign-in service is temporarily unavailable."}
	errBusy = pageError{http.StatusServiceUnavailable, "Please try again",
		"The sign-in service is busy right now. Please try again in a few seconds."}
	errUnreadableAuthorize = invalidRequest("The authorization request could not be read.")
	errUnreadableForm      = invalidRequest("The form could not be read.")
	errUnreadableLogout    = invalidRequest("The sign-out request could not be read.")
	errMissingClientID     = invalidRequest("The sign-in request does not say which application it comes from: the client_id parameter is missing. Return to the application and try again.")
	errMissingRedirect     = invalidRequest("The sign-in request does not say where to return: the redirect_uri parameter is missing. Return to the application and try again.")
	errUnknownClient       = pageError{http.StatusBadRequest, "Unknown application",
		"The application that sent you here is not registered with this sign-in service."}
	errUnregisteredRedirect = pageError{http.StatusBadRequest, "Invalid redirect URI",
		"The application asked to return to an address it has not registered."}
	errMalformedRedirect = pageError{http.StatusBadRequest, "Invalid redirect URI",
		"The application's redirect address is malformed."}
	// errUnknownTenant: no tenant at this path or host (op's tenant
	// resolution; see UnknownTenantPage).
	errUnknownTenant = pageError{http.StatusNotFound, "Unknown sign-in service",
		"There is no sign-in service at this address. Check the link you followed, or return to the application and try again."}
	// errPageNotFound: a path nothing serves (see NotFoundPage).
	errPageNotFound = pageError{http.StatusNotFound, "Page not found",
		"There is no page at this address. Check the link you followed, or return to the application and try again."}
	errExpiredRequest = pageError{http.StatusBadRequest, "Sign-in expired",
		"This sign-in request has expired or is unknown. Return to the application and start again."}
	errLoginFormExpired = pageError{http.StatusForbidden, "Form expired",
		"The sign-in form expired. Return to the application and try again."}
	errConsentFormExpired = pageError{http.StatusForbidden, "Form expired",
		"The consent form expired. Return to the application and try again."}
	errLogoutFormExpired = pageError{http.StatusForbidden, "Form expired",
		"The sign-out form expired. Please try again."}
	errConsentBeforeLogin = pageError{http.StatusBadRequest, "Sign-in required",
		"Sign in before granting access. Return to the application and start again."}
	errSessionEnded = pageError{http.StatusForbidden, "Sign-in required",
		"Your session ended. Return to the application and start again."}
	errAccountFormExpired = pageError{http.StatusForbidden, "Form expired",
		"The form expired. Please try again."}
	errLogoutCancelled = pageError{http.StatusOK, "Still signed in", "You cancelled signing out."}
	// errInternal: a failure that is neither an outage nor a missing
	// record; the cause is only in the log, under the request ID.
	errInternal = pageError{http.StatusInternalServerError, "Something went wrong",
		"The sign-in service could not complete your request. If this keeps happening, quote the request ID below."}
)

// outage reports whether err comes from a dependency that is down or
// overloaded, so that the user (or client) may simply retry: a backend
// that marked it storage.ErrUnavailable, a deadline, or the password
// hasher's full queue.
func outage(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, password.ErrBusy)
}

// storagePage is the one mapping of a storage error to a page: a missing
// record is notFound (pass the zero pageError where a missing record is not
// an expected answer), an outage the "try again" page, anything else the
// internal-error page. Outages and failures are logged with what was being
// done; the page carries the request ID, never the error text.
func (h *Handler) storagePage(w http.ResponseWriter, r *http.Request, what string, err error, notFound pageError) {
	h.errorPage(w, r, h.pageFor(r.Context(), what, err, notFound))
}

// pageFor is storagePage's decision, logged.
func (h *Handler) pageFor(ctx context.Context, what string, err error, notFound pageError) pageError {
	switch {
	case notFound != (pageError{}) && errors.Is(err, storage.ErrNotFound):
		return notFound
	case errors.Is(err, password.ErrBusy):
		return errBusy
	case retryable(ctx, what, err):
		return errUnavailable
	default:
		return errInternal
	}
}

// retryable logs a failed call by its kind and reports whether the user or
// client may simply retry: a request the browser cancelled (nothing failed;
// logged at debug) or an outage (warn) is; anything else is an internal
// error (error). storagePage and storageAuthError both decide through it.
func retryable(ctx context.Context, what string, err error) bool {
	switch {
	case errors.Is(err, context.Canceled):
		slog.DebugContext(ctx, "request cancelled", "op", what)
		return true
	case outage(err):
		slog.WarnContext(ctx, "dependency unavailable", "op", what, "error", err)
		return true
	default:
		slog.ErrorContext(ctx, "internal error", "op", what, "error", err)
		return false
	}
}

// Page errors of the account page (account.go).
var (
	errAccountSessionGone = pageError{http.StatusBadRequest, "Session not found",
		"That session has already ended."}
	errAccountSignInAgain = pageError{http.StatusForbidden, "Sign-in required",
		"Your session ended. Open your account page again to sign in."}
	errAccountNoConsent = pageError{http.StatusBadRequest, "App not found",
		"That app has no access to your account."}
	errAccountNoLink = pageError{http.StatusBadRequest, "Linked account not found",
		"That account is not linked to yours."}
)

// accountSignInFailed: the account page's sign-in ended with an error a
// client would have been sent; there is no client, so the user sees it.
func accountSignInFailed(e *authError) pageError {
	return pageError{http.StatusBadRequest, "Sign-in failed",
		"Signing in to your account failed (" + e.description + "). Open your account page to try again."}
}

func invalidRequest(message string) pageError {
	return pageError{http.StatusBadRequest, "Invalid request", message}
}

// invalidLogout describes a rejected logout request; description comes from
// the provider's validation and is safe to show.
func invalidLogout(description string) pageError {
	msg := "The sign-out request is invalid."
	if description != "" {
		msg = "The sign-out request is invalid: " + description + "."
	}
	return pageError{http.StatusBadRequest, "Invalid sign-out request", msg}
}

// errorPage shows an error to the user on Herald's own origin, never
// redirecting.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, e pageError) {
	h.rejectedPage(w, r, e, "", "")
}

// rejectedPage is errorPage naming the request parameter that was refused
// and its value (untrusted: the template shortens and escapes it), so that
// the developer who sent it sees what went wrong. An empty value names
// nothing.
func (h *Handler) rejectedPage(w http.ResponseWriter, r *http.Request, e pageError, param, value string) {
	if e == errBusy {
		// The login storm waits for a retry instead of exhausting memory.
		w.Header().Set("Retry-After", strconv.Itoa(2))
	}
	h.render(w, r, e.status, templates.ErrorPage{
		Branding:      h.branding(r.Context()),
		Title:         e.title,
		Message:       e.message,
		RequestID:     h.p.RequestID(r.Context()),
		RejectedName:  param,
		RejectedValue: value,
	})
}

// The pages op shows a browser outside the flow (its tenant resolution and
// router), so that every error a person can land on is a page of this
// file. op calls them only when WantsHTML; API clients get its JSON.

// UnknownTenantPage answers a path or host no (enabled) tenant serves: 404,
// naming what was asked for (param "tenant" or "host").
func (h *Handler) UnknownTenantPage(w http.ResponseWriter, r *http.Request, param, value string) {
	h.rejectedPage(w, r, errUnknownTenant, param, value)
}

// UnavailablePage answers when the tenant could not be looked up because
// storage is down: 503, try again.
func (h *Handler) UnavailablePage(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, errUnavailable)
}

// NotFoundPage answers a path nothing serves, in the request's tenant's
// look when there is one.
func (h *Handler) NotFoundPage(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, errPageNotFound)
}

// OAuth error codes sent back to the client (RFC 6749 §4.1.2.1, OIDC Core
// §3.1.2.6).
const (
	codeInvalidRequest          = "invalid_request"
	codeUnauthorizedClient      = "unauthorized_client"
	codeAccessDenied            = "access_denied"
	codeUnsupportedResponseType = "unsupported_response_type"
	codeInvalidScope            = "invalid_scope"
	codeTemporarilyUnavailable  = "temporarily_unavailable"
	codeLoginRequired           = "login_required"
	codeConsentRequired         = "consent_required"
	codeRequestNotSupported     = "request_not_supported"
	codeRequestURINotSupported  = "request_uri_not_supported"
	codeServerError             = "server_error"
)

// authError is an error to send back to the client's (verified) redirect
// URI.
type authError struct {
	code, description string
}

var (
	errTryLater = &authError{codeTemporarilyUnavailable, "try again later"}
	// errServer says nothing of the cause (checklist K2).
	errServer = &authError{codeServerError, "internal error"}
)

// storageAuthError is the one mapping of a storage error, met after the
// redirect URI was verified, to the error sent back to the client: an
// outage is temporarily_unavailable (the client may retry, RFC 6749
// §4.1.2.1), anything else server_error. Either way the cause is logged,
// never sent.
func storageAuthError(ctx context.Context, what string, err error) *authError {
	if retryable(ctx, what, err) {
		return errTryLater
	}
	return errServer
}

// errHintMismatch: the user who signed in is not the one the id_token_hint
// names (OIDC Core §3.1.2.1).
var errHintMismatch = &authError{codeLoginRequired, "the signed-in user is not the user the id_token_hint names"}

// Pages of upstream sign-in (upstream.go). {provider} is replaced by the
// connector's display name.
var (
	errPasswordLoginOff = pageError{http.StatusForbidden, "Password sign-in is off",
		"This service signs you in through the providers shown on the sign-in page only. Return to the application and choose one."}
	errUnknownConnector = pageError{http.StatusNotFound, "Unknown sign-in option",
		"This way of signing in is not offered here. Return to the application and try again."}
	errUpstreamState = pageError{http.StatusBadRequest, "Sign-in expired",
		"This sign-in could not be matched to one started in this browser: it was already used, has expired, or was started elsewhere. Return to the application and start again."}
	errUpstreamCancelled = pageError{http.StatusForbidden, "Sign-in cancelled",
		"Signing in with {provider} was cancelled or not allowed."}
	errUpstreamUnavailable = pageError{http.StatusServiceUnavailable, "Please try again",
		"{provider} could not be reached to sign you in. Please try again in a moment."}
	errUpstreamInvalid = pageError{http.StatusBadGateway, "Sign-in failed",
		"The answer from {provider} could not be verified, so you were not signed in."}
	errUpstreamNoAccount = pageError{http.StatusForbidden, "No account",
		"You signed in with {provider}, but there is no account here for you, and none can be created automatically. Contact the administrator."}
	errUpstreamUnverified = pageError{http.StatusForbidden, "E-mail address not verified",
		"{provider} does not confirm that your e-mail address is verified, so it cannot be matched to an account here. Verify it there, then try again."}
)
