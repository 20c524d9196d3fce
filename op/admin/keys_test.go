package admin

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-idp/herald/keys"
	"github.com/herald-idp/herald/op/registry"
)

// settableClock is the key manager's clock, moved by the test.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newKeysAPI(t *testing.T) (*testAPI, *settableClock, *[]string) {
	t.Helper()
	clock := &settableClock{now: time.Now()}
	var changed []string
	a := newAPIWith(t, registry.TenantSpec{Name: "acme", SigningAlgorithm: "ES256"},
		func(_ context.Context, tenant string) { changed = append(changed, tenant) }, keys.WithClock(clock.Now))
	return a, clock, &changed
}

func TestRotateAndRevokeKeys(t *testing.T) {
	a, clock, changed := newKeysAPI(t)
	status := func() map[string]string {
		out := map[string]string{}
		for _, k := range a.call(t, http.MethodGet, "/tenants/acme/keys", nil).want(t, 200).json(t)["keys"].([]any) {
			m := k.(map[string]any)
			if m["alg"] == "ES256" {
				out[m["kid"].(string)] = m["status"].(string)
			}
		}
		return out
	}
	before := status()

	// Right after creation the next key is too fresh to sign.
	res := a.call(t, http.MethodPost, "/tenants/acme/keys/rotate", nil).want(t, 409)
	if res.json(t)["error"] != "next_key_not_ready" || res.header.Get("Retry-After") == "" {
		t.Fatalf("early rotation answered %s %v", res.body, res.header)
	}
	clock.Advance(keys.DefaultPrePublish)
	*changed = nil
	rot := a.call(t, http.MethodPost, "/tenants/acme/keys/rotate", nil).want(t, 200).json(t)
	if rot["alg"] != "ES256" || before[rot["active"].(string)] != "next" || rot["next"] == "" {
		t.Fatalf("rotation = %v, keys before %v", rot, before)
	}
	if len(*changed) != 1 || (*changed)[0] != "acme" {
		t.Fatalf("rotation announced %v, want acme once (replicas drop their key caches)", *changed)
	}
	after := status()
	if after[rot["active"].(string)] != "active" || after[rot["next"].(string)] != "next" || len(after) != 3 {
		t.Fatalf("keys after rotation %v", after)
	}
	a.call(t, http.MethodPost, "/tenants/acme/keys/rotate?alg=HS256", nil).wantField(t, "alg")
	a.call(t, http.MethodPost, "/tenants/nope/keys/rotate", nil).want(t, 404)
	a.call(t, http.MethodPost, "/tenants/acme/keys/rotate?alg=EdDSA", nil).want(t, 404) // acme has no EdDSA keys

	// Emergency revocation of the active key: the next key takes over.
	active := rot["active"].(string)
	rev := a.call(t, http.MethodPost, "/tenants/acme/keys/"+active+"/revoke", nil).want(t, 200).json(t)
	if rev["promoted"] != true || rev["active"] != rot["next"] || rev["previous_status"] != "active" ||
		!strings.Contains(rev["message"].(string), "fails verification") {
		t.Fatalf("revocation = %v", rev)
	}
	if status()[active] != "revoked" {
		t.Fatal("the key is not revoked")
	}
	a.call(t, http.MethodPost, "/tenants/acme/keys/no-such-kid/revoke", nil).want(t, 404)
	a.call(t, http.MethodPost, "/tenants/nope/keys/"+active+"/revoke", nil).want(t, 404)
	// Other tenants' admins cannot reach it.
	a.send(t, http.MethodPost, "/tenants/acme/keys/rotate", nil, "", tokenOtherTenant).want(t, 401)
	events := a.call(t, http.MethodGet, "/audit?tenant=acme&limit=2", nil).want(t, 200).json(t)["events"].([]any)
	if e := events[0].(map[string]any); e["action"] != registry.ActionKeyRevoke || e["target_id"] != active {
		t.Fatalf("newest audit event %v", e)
	}
	if e := events[1].(map[string]any); e["action"] != registry.ActionKeysRotate {
		t.Fatalf("second audit event %v", e)
	}
}
