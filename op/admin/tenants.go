package admin

import (
	"net/http"
	"net/url"
	"path"

	"github.com/go-chi/chi/v5"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// settingsPatch names the settings a request sets; absent ones are kept
// (PATCH) or default (POST).
type settingsPatch struct {
	LogoURL                  *string            `json:"logo_url"`
	AccentColor              *string            `json:"accent_color"`
	AccessTokenLifetime      *int64             `json:"access_token_lifetime"`
	IDTokenLifetime          *int64             `json:"id_token_lifetime"`
	RefreshTokenLifetime     *int64             `json:"refresh_token_lifetime"`
	SessionIdleTimeout       *int64             `json:"session_idle_timeout"`
	SessionAbsoluteLifetime  *int64             `json:"session_absolute_lifetime"`
	AllowedSigningAlgorithms *[]string          `json:"allowed_signing_algorithms"`
	PasswordMinLength        *int               `json:"password_min_length"`
	PasswordMinScore         *int               `json:"password_min_score"`
	LoginThrottle            *LoginThrottleJSON `json:"login_throttle"`
	CustomClaims             *[]ClaimJSON       `json:"custom_claims"`
	MFA                      *MFASettingsJSON   `json:"mfa"`
	ConnectorsOnly           *bool              `json:"connectors_only"`
}

func (p *settingsPatch) update() *registry.SettingsUpdate {
	if p == nil {
		return nil
	}
	u := &registry.SettingsUpdate{
		LogoURL: p.LogoURL, AccentColor: p.AccentColor,
		AccessTokenLifetime:      secondsPtr(p.AccessTokenLifetime),
		IDTokenLifetime:          secondsPtr(p.IDTokenLifetime),
		RefreshTokenLifetime:     secondsPtr(p.RefreshTokenLifetime),
		SessionIdleTimeout:       secondsPtr(p.SessionIdleTimeout),
		SessionAbsoluteLifetime:  secondsPtr(p.SessionAbsoluteLifetime),
		AllowedSigningAlgorithms: p.AllowedSigningAlgorithms,
		PasswordMinLength:        p.PasswordMinLength,
		PasswordMinScore:         p.PasswordMinScore,
		ConnectorsOnly:           p.ConnectorsOnly,
	}
	if p.LoginThrottle != nil {
		lt := p.LoginThrottle.settings()
		u.LoginThrottle = &lt
	}
	if p.MFA != nil {
		u.MFA = &storage.MFASettings{Policy: p.MFA.Policy, Clients: p.MFA.Clients}
	}
	if p.CustomClaims != nil {
		claims := make([]storage.ClaimMapping, 0, len(*p.CustomClaims))
		for _, c := range *p.CustomClaims {
			claims = append(claims, storage.ClaimMapping(c))
		}
		u.CustomClaims = &claims
	}
	return u
}

type createTenantRequest struct {
	Name        string         `json:"name"`
	DisplayName string         `json:"display_name"`
	SigningAlg  string         `json:"signing_alg"`
	Hostnames   []string       `json:"hostnames"`
	Settings    *settingsPatch `json:"settings"`
}

func (h *handler) createTenant(w http.ResponseWriter, r *http.Request) {
	var req createTenantRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, nil)
		return
	}
	spec := registry.TenantSpec{Name: req.Name, DisplayName: req.DisplayName, SigningAlgorithm: req.SigningAlg, Hostnames: req.Hostnames}
	if u := req.Settings.update(); u != nil {
		u.Apply(&spec.Settings)
	}
	t, err := h.registryFor(r).CreateTenant(r.Context(), spec)
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	created(w, r, t.Name, RenderTenant(h.reg.PublicURL, t))
}

func (h *handler) listTenants(w http.ResponseWriter, r *http.Request) {
	ts, err := h.reg.ListTenants(r.Context())
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderList("tenants", ts, func(t *storage.Tenant) TenantJSON {
		return RenderTenant(h.reg.PublicURL, t)
	}))
}

func (h *handler) getTenant(w http.ResponseWriter, r *http.Request) {
	t, err := h.reg.GetTenant(r.Context(), chi.URLParam(r, "tenant"))
	h.tenantResult(w, r, t, err)
}

type updateTenantRequest struct {
	DisplayName *string        `json:"display_name"`
	SigningAlg  *string        `json:"signing_alg"`
	Hostnames   *[]string      `json:"hostnames"`
	Settings    *settingsPatch `json:"settings"`
	Disabled    *bool          `json:"disabled"`
}

func (h *handler) updateTenant(w http.ResponseWriter, r *http.Request) {
	var req updateTenantRequest
	if err := decode(r, &req); err != nil {
		fail(w, r, err, nil)
		return
	}
	t, err := h.registryFor(r).UpdateTenant(r.Context(), chi.URLParam(r, "tenant"), registry.TenantUpdate{
		DisplayName: req.DisplayName, SigningAlgorithm: req.SigningAlg, Hostnames: req.Hostnames,
		Settings: req.Settings.update(), Disabled: req.Disabled,
	})
	h.tenantResult(w, r, t, err)
}

func (h *handler) disableTenant(w http.ResponseWriter, r *http.Request) {
	t, err := h.registryFor(r).DisableTenant(r.Context(), chi.URLParam(r, "tenant"))
	h.tenantResult(w, r, t, err)
}

func (h *handler) enableTenant(w http.ResponseWriter, r *http.Request) {
	t, err := h.registryFor(r).EnableTenant(r.Context(), chi.URLParam(r, "tenant"))
	h.tenantResult(w, r, t, err)
}

func (h *handler) deleteTenant(w http.ResponseWriter, r *http.Request) {
	if err := h.registryFor(r).DeleteTenant(r.Context(), chi.URLParam(r, "tenant")); err != nil {
		fail(w, r, err, nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) tenantResult(w http.ResponseWriter, r *http.Request, t *storage.Tenant, err error) {
	if err != nil {
		fail(w, r, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, RenderTenant(h.reg.PublicURL, t))
}

// created answers 201 with the new object and its Location (RFC 9110
// §15.3.2), relative to the request path, whatever the mount point.
func created(w http.ResponseWriter, r *http.Request, id string, v any) {
	w.Header().Set("Location", path.Join(r.URL.EscapedPath(), url.PathEscape(id)))
	writeJSON(w, http.StatusCreated, v)
}
