package login

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

// tenantProvider is fakeProvider answering for a chosen tenant.
type tenantProvider struct {
	fakeProvider
	name string
}

func (p tenantProvider) Tenant(context.Context) Tenant {
	return Tenant{Tenant: &storage.Tenant{Name: p.name}, CookiePath: "/t/" + p.name + "/"}
}

func deviceHandler(tenant string, key string) *Handler {
	return New(Config{Provider: tenantProvider{name: tenant}, DeviceKey: []byte(key)})
}

// cookieFrom carries the Set-Cookie of rec into a new request.
func cookieFrom(t *testing.T, rec *httptest.ResponseRecorder, value func(string) string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range rec.Result().Cookies() {
		if c.Name == deviceCookie {
			if !c.HttpOnly || c.Path != "/t/acme/" || c.MaxAge <= 0 {
				t.Fatalf("device cookie attributes: %+v", c)
			}
			r.AddCookie(&http.Cookie{Name: c.Name, Value: value(c.Value)})
		}
	}
	return r
}

func TestDeviceCookie(t *testing.T) {
	h := deviceHandler("acme", "k1")
	rec := httptest.NewRecorder()
	d := h.rememberDevice(rec, httptest.NewRequest(http.MethodGet, "/", nil), nil, "alice")
	same := func(v string) string { return v }

	r := cookieFrom(t, rec, same)
	got := h.readDevice(r)
	if got == nil || got.deviceID() != d.deviceID() {
		t.Fatalf("device did not round-trip: %v", got)
	}
	if !h.knows(got, "acme", "alice") || h.knows(got, "acme", "bob") {
		t.Fatal("the device must know alice and only alice")
	}

	// Tampering, another tenant's key or name: no device.
	tampered := cookieFrom(t, rec, func(v string) string {
		b := []byte(v)
		b[5] ^= 1
		return string(b)
	})
	if h.readDevice(tampered) != nil {
		t.Error("a tampered cookie was accepted")
	}
	if deviceHandler("other", "k1").readDevice(cookieFrom(t, rec, same)) != nil {
		t.Error("a cookie of tenant acme was accepted by another tenant")
	}
	if deviceHandler("acme", "k2").readDevice(cookieFrom(t, rec, same)) != nil {
		t.Error("a cookie signed with another key was accepted")
	}

	// More accounts on one device: the newest maxDeviceAccounts stay.
	for i := range maxDeviceAccounts {
		rec = httptest.NewRecorder()
		d = h.rememberDevice(rec, r, d, "user"+string(rune('a'+i)))
		r = cookieFrom(t, rec, same)
	}
	d = h.readDevice(r)
	if h.knows(d, "acme", "alice") || !h.knows(d, "acme", "usera") || len(d.tags) != maxDeviceAccounts {
		t.Errorf("after %d more accounts: %d tags, alice known=%v", maxDeviceAccounts, len(d.tags), h.knows(d, "acme", "alice"))
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3:0:0:0:1": "2001:db8:1:3::/64",
	} {
		if got := addressKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("addressKey(%s) = %s, want %s", in, got, want)
		}
	}
	if addressKey(netip.Addr{}) != "unknown" {
		t.Error("invalid address")
	}
}

func TestEffectiveThrottle(t *testing.T) {
	got := effectiveThrottle(&storage.Tenant{Settings: storage.TenantSettings{
		LoginThrottle: storage.LoginThrottleSettings{AccountFree: 3, MaxDelay: time.Minute},
	}})
	want := DefaultThrottle
	want.AccountFree, want.MaxDelay = 3, time.Minute
	if got != want {
		t.Fatalf("effectiveThrottle = %+v, want %+v", got, want)
	}
	if s := effectiveThrottle(&storage.Tenant{Settings: storage.TenantSettings{
		LoginThrottle: storage.LoginThrottleSettings{BaseDelay: time.Hour, MaxDelay: time.Minute},
	}}); s.BaseDelay != time.Minute {
		t.Errorf("base delay above max: %v", s.BaseDelay)
	}
}

func TestTooManyAttemptsMessage(t *testing.T) {
	for secs, want := range map[int]string{1: "wait 1 second ", 7: "wait 7 seconds", 600: "wait 10 minutes"} {
		if msg := tooManyAttempts(secs); !strings.Contains(msg, want) {
			t.Errorf("tooManyAttempts(%d) = %q, want %q", secs, msg, want)
		}
	}
	now := time.Now()
	if retryAfter(now.Add(1500*time.Millisecond), now) != 2 || retryAfter(now, now) != 1 {
		t.Error("Retry-After rounds up to at least 1 s")
	}
}

// TestFirstRefusal: a wait's refusals are recorded once; a new wait or
// another key again.
func TestFirstRefusal(t *testing.T) {
	h := deviceHandler("acme", "k")
	at := time.Now().Add(time.Minute)
	if !h.firstRefusal("k1", at) || h.firstRefusal("k1", at) || h.firstRefusal("k1", at) {
		t.Fatal("one wait must be recorded exactly once")
	}
	if !h.firstRefusal("k1", at.Add(time.Second)) || !h.firstRefusal("k2", at) {
		t.Fatal("a new wait or another key must be recorded")
	}
	for i := range maxRefusalMemory + 10 {
		h.firstRefusal(string(rune(i)), at)
	}
	if n := len(h.refusals.seen); n > maxRefusalMemory {
		t.Fatalf("refusal memory holds %d entries, bound %d", n, maxRefusalMemory)
	}
}
