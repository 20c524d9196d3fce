package login

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/op/mfa"
	"github.com/herald-idp/herald/storage"
)

func TestMFARequired(t *testing.T) {
	web, spa := &storage.Client{ID: "web"}, &storage.Client{ID: "spa"}
	plain, stepUp := &storage.AuthRequest{}, &storage.AuthRequest{RequiredACR: mfa.ACRMFA}
	account := &storage.AuthRequest{ClientID: accountClientID}
	tenant := func(policy string, clients ...string) *storage.Tenant {
		return &storage.Tenant{Settings: storage.TenantSettings{MFA: storage.MFASettings{Policy: policy, Clients: clients}}}
	}
	for _, tc := range []struct {
		name string
		t    *storage.Tenant
		c    *storage.Client
		ar   *storage.AuthRequest
		want bool
	}{
		{"optional", tenant(""), web, plain, false},
		{"optional step-up", tenant(storage.MFAOptional), web, stepUp, true},
		{"off ignores step-up", tenant(storage.MFAOff), web, stepUp, false},
		{"required", tenant(storage.MFARequired), web, plain, true},
		{"required account", tenant(storage.MFARequired), accountClient(), account, true},
		{"listed client", tenant(storage.MFARequiredForClients, "spa"), spa, plain, true},
		{"other client", tenant(storage.MFARequiredForClients, "spa"), web, plain, false},
		{"other client step-up", tenant(storage.MFARequiredForClients, "spa"), web, stepUp, true},
	} {
		if got := mfaRequired(tc.t, tc.c, tc.ar); got != tc.want {
			t.Errorf("%s: mfaRequired = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The pending sign-in is bound to its auth request, the browser's CSRF
// cookie and the tenant, and expires.
func TestPendingState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := New(Config{Provider: tenantProvider{name: "acme"}, CSRFKey: []byte("k"), Now: func() time.Time { return now }})
	ar := &storage.AuthRequest{ID: "ar1", ExpiresAt: now.Add(time.Hour)}
	rec := httptest.NewRecorder()
	state := h.pendingState(rec, httptest.NewRequest(http.MethodPost, "/", nil), ar, "u1")
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == csrfCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no CSRF cookie set")
	}
	read := func(h *Handler, state string, c *http.Cookie, ar *storage.AuthRequest) (string, bool) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"mfa_state": {state}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		_ = r.ParseForm()
		return h.readPending(r, ar)
	}
	if u, ok := read(h, state, cookie, ar); !ok || u != "u1" {
		t.Fatalf("readPending = %q, %v", u, ok)
	}
	other := &http.Cookie{Name: csrfCookie, Value: strings.Repeat("x", 43)}
	payload, mac, _ := strings.Cut(state, ".")
	for name, tc := range map[string]struct {
		h      *Handler
		state  string
		cookie *http.Cookie
		ar     *storage.AuthRequest
	}{
		"other request":    {h, state, cookie, &storage.AuthRequest{ID: "ar2"}},
		"other browser":    {h, state, other, ar},
		"no cookie":        {h, state, nil, ar},
		"other tenant":     {New(Config{Provider: tenantProvider{name: "beta"}, CSRFKey: []byte("k"), Now: h.now}), state, cookie, ar},
		"tampered":         {h, payload + "x." + mac, cookie, ar},
		"no MAC":           {h, payload, cookie, ar},
		"empty":            {h, "", cookie, ar},
		"expired":          {New(Config{Provider: tenantProvider{name: "acme"}, CSRFKey: []byte("k"), Now: func() time.Time { return now.Add(pendingLifetime + time.Second) }}), state, cookie, ar},
		"another CSRF key": {New(Config{Provider: tenantProvider{name: "acme"}, CSRFKey: []byte("other"), Now: h.now}), state, cookie, ar},
	} {
		if u, ok := read(tc.h, tc.state, tc.cookie, tc.ar); ok {
			t.Errorf("%s: accepted (user %q)", name, u)
		}
	}
	// Never beyond the auth request's own expiry.
	short := &storage.AuthRequest{ID: "ar3", ExpiresAt: now.Add(time.Minute)}
	rec = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	state = h.pendingState(rec, r, short, "u1")
	later := New(Config{Provider: tenantProvider{name: "acme"}, CSRFKey: []byte("k"), Now: func() time.Time { return now.Add(2 * time.Minute) }})
	if _, ok := read(later, state, cookie, short); ok {
		t.Error("pending state outlived its auth request")
	}
}
