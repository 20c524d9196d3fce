package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/op/upstream"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/templates"
)

// Sign-in at an upstream identity provider (a connector, docs/federation.md).
//
//	login page button ─POST /upstream/{id}/start─▶ (or /authorize?idp_hint={id})
//	  state, nonce, PKCE verifier stored server-side with the auth request ID,
//	  the state also in a cookie of this browser; 303 to the provider
//	provider ─GET /upstream/{id}/callback?code&state─▶
//	  cookie = state, state consumed (single use), code exchanged, ID token
//	  verified, the link (connector, subject) → local user found or made,
//	  SSO session started, then the request continues as after a password.

// PathUpstream prefixes the upstream sign-in endpoints.
const PathUpstream = "/upstream"

const (
	upstreamCookie = "herald_upstream"
	// AMRFederated is the amr value of a sign-in at an upstream provider.
	// It is not an RFC 8176 value (none fits); the ID token's idp claim
	// names the connector.
	AMRFederated = "fed"
	// AMRConnectorPrefix marks, inside Herald only, the amr entry that
	// carries the connector ID ("idp:{id}"). The token minter removes it
	// from amr and puts the ID into the idp claim.
	AMRConnectorPrefix   = "idp:"
	defaultStateLifetime = 10 * time.Minute
)

// UpstreamConfig turns on sign-in at upstream identity providers.
type UpstreamConfig struct {
	Client *upstream.Client
	// OpenSecret opens a connector's sealed client secret
	// (keys.Manager.OpenConnectorSecret).
	OpenSecret func(tenant, id string, sealed []byte) ([]byte, error)
	// Registry creates (just-in-time) and links users.
	Registry *registry.Registry
	// StateLifetime bounds the round trip to the provider (default 10
	// minutes).
	StateLifetime time.Duration
}

func (h *Handler) upstreamRoutes(r chi.Router, forms *http.CrossOriginProtection) {
	if h.upstream == nil {
		return
	}
	r.With(forms.Handler).Post(PathUpstream+"/{connector}/start", h.handleUpstreamStart)
	r.Get(PathUpstream+"/{connector}/callback", h.handleUpstreamCallback)
}

// connectorButtons lists the tenant's enabled connectors for the login page.
func (h *Handler) connectorButtons(ctx context.Context) []templates.ConnectorButton {
	if h.upstream == nil {
		return nil
	}
	cs, err := h.store.Connectors().ListConnectors(ctx, h.p.Tenant(ctx).Name)
	if err != nil {
		slog.WarnContext(ctx, "login page: list connectors", "error", err)
		return nil
	}
	var out []templates.ConnectorButton
	for _, c := range cs {
		if !c.Disabled {
			out = append(out, templates.ConnectorButton{
				ActionURL: h.tenantURL(ctx, PathUpstream+"/"+url.PathEscape(c.ID)+"/start"),
				Label:     c.DisplayName,
			})
		}
	}
	return out
}

// passwordHidden: the tenant signs in through its connectors only, and
// has an enabled one (without any, the password form stays so that nobody
// is locked out).
func (h *Handler) passwordHidden(ctx context.Context, buttons []templates.ConnectorButton) bool {
	t := h.p.Tenant(ctx).Tenant
	return t != nil && t.Settings.ConnectorsOnly && len(buttons) > 0
}

// enabledConnector loads a connector of the request's tenant; nil if there
// is none or it is disabled.
func (h *Handler) enabledConnector(ctx context.Context, id string) (*storage.Connector, error) {
	c, err := h.store.Connectors().Connector(ctx, h.p.Tenant(ctx).Name, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && c.Disabled) {
		return nil, nil
	}
	return c, err
}

// handleUpstreamStart is a login page's connector button.
func (h *Handler) handleUpstreamStart(w http.ResponseWriter, r *http.Request) {
	ar, c, ok := h.postedAuthForm(w, r, "login", errLoginFormExpired)
	if !ok {
		return
	}
	conn, err := h.enabledConnector(r.Context(), chi.URLParam(r, "connector"))
	if err != nil {
		h.storagePage(w, r, "upstream: load connector", err, pageError{})
		return
	}
	if conn == nil {
		h.errorPage(w, r, errUnknownConnector)
		return
	}
	h.startUpstream(w, r, ar, c, conn)
}

// upstreamHint follows idp_hint on /authorize: straight to that connector
// instead of the login page. It reports whether it answered; an unknown or
// disabled connector is ignored (the login page is shown).
func (h *Handler) upstreamHint(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client) bool {
	hint := r.Form.Get("idp_hint")
	if h.upstream == nil || hint == "" || !strings.HasSuffix(r.URL.Path, PathAuthorize) {
		return false
	}
	conn, err := h.enabledConnector(r.Context(), hint)
	if err != nil || conn == nil {
		if err != nil {
			slog.WarnContext(r.Context(), "authorize: idp_hint connector", "error", err)
		}
		return false
	}
	h.startUpstream(w, r, ar, c, conn)
	return true
}

func (h *Handler) upstreamRequest(ctx context.Context, conn *storage.Connector) (upstream.Request, error) {
	secret, err := h.upstream.OpenSecret(conn.TenantID, conn.ID, conn.ClientSecret)
	if err != nil {
		return upstream.Request{}, err
	}
	return upstream.Request{
		Connector:    conn,
		ClientSecret: secret,
		RedirectURL:  h.tenantURL(ctx, PathUpstream+"/"+url.PathEscape(conn.ID)+"/callback"),
	}, nil
}

// startUpstream sends the browser to the provider. The state is bound to
// this auth request (server-side) and to this browser (cookie).
func (h *Handler) startUpstream(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client, conn *storage.Connector) {
	ctx := r.Context()
	req, err := h.upstreamRequest(ctx, conn)
	if err != nil {
		slog.ErrorContext(ctx, "upstream: open client secret", "connector", conn.ID, "error", err)
		h.upstreamFailed(w, r, ar, c, conn, upstream.Unavailable, "secret")
		return
	}
	req.State, req.Nonce, req.CodeVerifier = randomToken(32), randomToken(32), randomToken(48)
	authURL, err := h.upstream.Client.AuthURL(ctx, req)
	if err != nil {
		slog.WarnContext(ctx, "upstream: start", "connector", conn.ID, "error", err)
		h.upstreamFailed(w, r, ar, c, conn, kindOf(err), "start")
		return
	}
	now := h.now()
	lifetime := h.upstream.StateLifetime
	if lifetime <= 0 {
		lifetime = defaultStateLifetime
	}
	if err := h.store.Connectors().CreateUpstreamState(ctx, &storage.UpstreamState{
		TenantID: ar.TenantID, StateHash: sessionID(req.State), ConnectorID: conn.ID, AuthRequestID: ar.ID,
		Nonce: req.Nonce, CodeVerifier: req.CodeVerifier, CreatedAt: now, ExpiresAt: now.Add(lifetime),
	}); err != nil {
		h.storagePage(w, r, "upstream: store state", err, pageError{})
		return
	}
	h.setCookie(w, r, upstreamCookie, req.State, lifetime)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// handleUpstreamCallback is where the provider sends the browser back.
func (h *Handler) handleUpstreamCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	connID := chi.URLParam(r, "connector")
	state, cookie := q.Get("state"), h.cookie(r, upstreamCookie)
	h.setCookie(w, r, upstreamCookie, "", -1)
	if state == "" || len(state) > 256 || subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		h.upstreamStateRefused(w, r, connID, "state_mismatch")
		return
	}
	st, err := h.store.Connectors().ConsumeUpstreamState(ctx, h.p.Tenant(ctx).Name, sessionID(state), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		h.upstreamStateRefused(w, r, connID, "state_unknown")
		return
	}
	if err != nil {
		h.storagePage(w, r, "upstream: consume state", err, pageError{})
		return
	}
	if st.ConnectorID != connID {
		h.upstreamStateRefused(w, r, connID, "state_connector")
		return
	}
	ar, c, ok := h.pendingAuthRequest(w, r, st.AuthRequestID)
	if !ok {
		return
	}
	conn, err := h.enabledConnector(ctx, connID)
	if err != nil || conn == nil {
		if err != nil {
			slog.WarnContext(ctx, "upstream: load connector", "error", err)
		}
		h.upstreamFailed(w, r, ar, c, &storage.Connector{ID: connID, DisplayName: connID}, upstream.Unavailable, "connector")
		return
	}
	// RFC 9207: a provider that names itself must be this connector's
	// (a mix-up: the answer of another provider replayed here).
	if iss := q.Get("iss"); iss != "" && conn.Type == storage.ConnectorOIDC && iss != conn.Issuer {
		h.upstreamFailed(w, r, ar, c, conn, upstream.Invalid, "issuer")
		return
	}
	if e := q.Get("error"); e != "" {
		kind, reason := upstream.Invalid, "error"
		if e == codeAccessDenied {
			kind, reason = upstream.Denied, "access_denied"
		}
		h.upstreamFailed(w, r, ar, c, conn, kind, reason)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		h.upstreamFailed(w, r, ar, c, conn, upstream.Invalid, "no_code")
		return
	}
	req, err := h.upstreamRequest(ctx, conn)
	if err != nil {
		slog.ErrorContext(ctx, "upstream: open client secret", "connector", conn.ID, "error", err)
		h.upstreamFailed(w, r, ar, c, conn, upstream.Unavailable, "secret")
		return
	}
	req.State, req.Nonce, req.CodeVerifier = state, st.Nonce, st.CodeVerifier
	ident, err := h.upstream.Client.Exchange(ctx, req, code)
	if err != nil {
		slog.WarnContext(ctx, "upstream: exchange", "connector", conn.ID, "error", err)
		h.upstreamFailed(w, r, ar, c, conn, kindOf(err), "exchange")
		return
	}
	user, reason, err := h.upstreamUser(ctx, conn, ident)
	if err != nil {
		slog.ErrorContext(ctx, "upstream: local user", "connector", conn.ID, "error", err)
		h.upstreamFailed(w, r, ar, c, conn, upstream.Unavailable, "user")
		return
	}
	if user == nil || user.Disabled {
		if user != nil {
			reason = ReasonDisabled
		}
		h.upstreamFailed(w, r, ar, c, conn, upstream.Denied, reason)
		return
	}
	if !hintMatches(ar, user.ID) {
		h.finishWithError(w, r, ar, errHintMismatch)
		return
	}
	amr := []string{AMRFederated, AMRConnectorPrefix + conn.ID}
	sess, err := h.startSession(ctx, w, r, user, amr)
	if err != nil {
		h.storagePage(w, r, "upstream: start session", err, pageError{})
		return
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLoginSucceeded, UserID: user.ID, ClientID: c.ID,
		Outcome: OutcomeSuccess, Reason: "upstream:" + conn.ID})
	slog.InfoContext(ctx, "upstream login succeeded", "tenant", ar.TenantID, "connector", conn.ID, "user_id", user.ID)
	ar.UserID, ar.SessionID, ar.AuthTime, ar.AMR = user.ID, sess.ID, sess.AuthTime, slices.Clone(amr)
	h.continueAuthorization(w, r, ar, c)
}

// Reasons of failed upstream sign-ins in the audit trail.
const (
	reasonNoAccount       = "no_account"
	reasonEmailUnverified = "email_unverified"
	reasonEmailAmbiguous  = "email_ambiguous"
)

// upstreamUser finds the local user of an upstream identity: the stored
// link; else, on a first sign-in, the one local user with the same
// verified e-mail (if the connector links by e-mail); else a new user (if
// it creates them just in time). nil and a reason when none applies.
func (h *Handler) upstreamUser(ctx context.Context, conn *storage.Connector, id *upstream.Identity) (*storage.User, string, error) {
	tenant := conn.TenantID
	cs, us := h.store.Connectors(), h.store.Users()
	link, err := cs.UserLink(ctx, tenant, conn.ID, id.Subject)
	switch {
	case err == nil:
		u, err := us.User(ctx, tenant, link.UserID)
		return u, "", err
	case !errors.Is(err, storage.ErrNotFound):
		return nil, "", err
	}
	reason := reasonNoAccount
	if conn.LinkByEmail && id.Email != "" {
		if !id.EmailVerified {
			reason = reasonEmailUnverified
		} else {
			candidates, err := cs.UsersByEmail(ctx, tenant, id.Email)
			if err != nil {
				return nil, "", err
			}
			var verified []*storage.User
			for _, u := range candidates {
				if u.EmailVerified {
					verified = append(verified, u)
				}
			}
			switch len(verified) {
			case 1:
				return h.linkUser(ctx, conn, id, verified[0], nil)
			case 0:
			default:
				// Two local accounts share the address: linking would pick
				// one at random.
				return nil, reasonEmailAmbiguous, nil
			}
		}
	}
	if !conn.JITCreate {
		return nil, reason, nil
	}
	u, err := h.upstream.Registry.As(registry.Actor{Tenant: tenant, ClientID: "upstream:" + conn.ID}).
		CreateFederatedUser(ctx, tenant, registry.FederatedUserSpec{
			Connector: conn.ID, Username: id.Username, Email: id.Email, EmailVerified: id.EmailVerified,
			Name: id.Name, GivenName: id.GivenName, FamilyName: id.FamilyName,
		})
	if err != nil {
		return nil, "", err
	}
	return h.linkUser(ctx, conn, id, u, u)
}

// linkUser stores the link. If a concurrent first sign-in of the same
// upstream account linked first, that link wins and the user just created
// (created, if any) is removed again.
func (h *Handler) linkUser(ctx context.Context, conn *storage.Connector, id *upstream.Identity, u, created *storage.User) (*storage.User, string, error) {
	reg := h.upstream.Registry.As(registry.Actor{Tenant: conn.TenantID, ClientID: "upstream:" + conn.ID})
	err := reg.LinkUser(ctx, conn.TenantID, conn.ID, id.Subject, u.ID)
	if errors.Is(err, storage.ErrAlreadyExists) {
		if created != nil {
			if err := h.store.Users().DeleteUser(ctx, conn.TenantID, created.ID); err != nil {
				slog.WarnContext(ctx, "upstream: remove duplicate user", "error", err)
			}
		}
		link, err := h.store.Connectors().UserLink(ctx, conn.TenantID, conn.ID, id.Subject)
		if err != nil {
			return nil, "", err
		}
		u, err := h.store.Users().User(ctx, conn.TenantID, link.UserID)
		return u, "", err
	}
	if err != nil {
		return nil, "", err
	}
	return u, "", nil
}

func kindOf(err error) upstream.Kind {
	var ue *upstream.Error
	if errors.As(err, &ue) {
		return ue.Kind
	}
	return upstream.Unavailable
}

// upstreamStateRefused: the callback cannot be tied to a sign-in this
// browser started (forged, replayed, expired, or from another browser).
// There is no client to tell: a page only.
func (h *Handler) upstreamStateRefused(w http.ResponseWriter, r *http.Request, connID, reason string) {
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLoginFailed, Outcome: OutcomeDenied,
		Reason: "upstream_" + reason + ":" + shortID(connID)})
	h.errorPage(w, r, errUpstreamState)
}

func shortID(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// upstreamFailed ends the auth request after a failed upstream sign-in:
// the person sees what happened, with a link that tells the client
// (access_denied, or temporarily_unavailable when the provider could not
// be reached); the failure goes into the audit trail.
func (h *Handler) upstreamFailed(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c *storage.Client,
	conn *storage.Connector, kind upstream.Kind, reason string) {
	ctx := r.Context()
	outcome, code, page := OutcomeDenied, codeAccessDenied, errUpstreamInvalid
	switch {
	case kind == upstream.Unavailable:
		outcome, code, page = OutcomeFailure, codeTemporarilyUnavailable, errUpstreamUnavailable
	case reason == "access_denied":
		page = errUpstreamCancelled
	case reason == reasonNoAccount || reason == reasonEmailAmbiguous:
		page = errUpstreamNoAccount
	case reason == reasonEmailUnverified:
		page = errUpstreamUnverified
	case reason == ReasonDisabled:
		page = errUpstreamNoAccount
	}
	h.p.RecordAuthEvent(r, AuthEvent{Event: storage.EventLoginFailed, ClientID: c.ID, Outcome: outcome,
		Reason: "upstream_" + reason + ":" + conn.ID})
	h.deleteAuthRequest(ctx, ar)
	// The redirect URI was matched against the client's registration,
	// which refuses javascript:, data: and the like: trusted as a URL.
	var ret template.URL
	if u, err := url.Parse(ar.RedirectURI); err == nil {
		q := u.Query()
		q.Set("error", code)
		q.Set("error_description", "sign-in at "+conn.ID+" failed")
		if ar.State != "" {
			q.Set("state", ar.State)
		}
		q.Set("iss", h.p.Tenant(ctx).Issuer)
		u.RawQuery = q.Encode()
		ret = template.URL(u.String()) //nolint:gosec // a verified redirect URI

	}
	h.render(w, r, page.status, templates.ErrorPage{
		Branding:  h.branding(ctx),
		Title:     page.title,
		Message:   strings.ReplaceAll(page.message, "{provider}", conn.DisplayName),
		RequestID: h.p.RequestID(ctx),
		ReturnURL: ret,
	})
}
