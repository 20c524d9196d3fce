package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	exampleSPADir = "../../docs/examples/spa"
)

// TestExampleSPA runs docs/examples/spa as `make example-spa` does (its
// serve.go on localhost:5173) against `herald serve --demo`, in headless
// Chromium: sign in with oidc-client-ts (code flow, PKCE), read the claims,
// renew the tokens with the refresh token, call userinfo cross-origin, sign
// out through end_session. It needs Chromium and the example's locked
// dependency (npm ci in docs/examples/spa); without them it is skipped
// locally and fails in CI.
func TestExampleSPA(t *testing.T) {
	need := func(path, hint string) {
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is missing (%s): %v", path, hint, err)
			}
			t.Skipf("%s is missing (%s)", path, hint)
		}
	}
	need(chromiumPath, "install Debian's chromium")
	need(filepath.Join(exampleSPADir, "node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js"), "run npm ci in docs/examples/spa")
	if ln, err := net.Listen("tcp", "localhost:5173"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but localhost:5173, the demo SPA's registered origin, is taken: %v", err)
		}
		t.Skipf("localhost:5173, the demo SPA's registered origin, is taken: %v", err)
	} else {
		ln.Close()
	}

	testEnv(t)
	addr := freeAddr(t)
	s := startServe(t, addr)
	demo, _ := s.demoOutput(t)

	spa := exec.Command("go", "run", "serve.go", "-issuer", demo.Issuer)
	spa.Dir = exampleSPADir
	var spaOut syncBuffer
	spa.Stdout, spa.Stderr = &spaOut, &spaOut
	spa.SysProcAttr = spaProcAttr()
	if err := spa.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopProcessGroup(spa) })
	waitFor(t, 120*time.Second, "the example SPA on localhost:5173", func() bool {
		resp, err := http.Get("http://localhost:5173/config.js")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Text(chromedp.ID(sel)))
		if err != nil {
			t.Fatalf("text of #%s: %v", sel, err)
		}
		return v
	}
	// waitText waits until #sel's text contains want.
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		waitFor(t, 20*time.Second, "#"+sel+" to contain "+want, func() bool {
			got = text(sel)
			return strings.Contains(got, want)
		})
		return got
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v\nSPA server: %s\nHerald: %s", what, err, spaOut.String(), s.stderr.String())
		}
	}

	step("open the app and sign in",
		chromedp.Navigate("http://localhost:5173/"),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)), // Herald's login page
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), demo.User.Username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demo.User.Password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("signed-in")), // back through /callback
	)
	if name, verified, claims := text("name"), text("email-verified"), text("claims"); name != "Demo User" ||
		verified != "true" || !strings.Contains(claims, `"preferred_username": "demo"`) {
		t.Fatalf("signed in as %q (email_verified %q), claims %s", name, verified, claims)
	}

	// Renewal with the refresh token, then userinfo cross-origin.
	step("renew", chromedp.Click(chromedp.ID("renew")))
	waitText("renewals", "1")
	step("userinfo", chromedp.Click(chromedp.ID("userinfo")))
	log := waitText("log", "GET /userinfo")
	if !strings.Contains(log, "tokens renewed (refresh token rotated)") || !strings.Contains(log, "GET /userinfo → 200") {
		t.Fatalf("log after renewing and calling userinfo:\n%s", log)
	}

	// Sign-out: end_session with the ID token as hint is silent and comes
	// back to the registered post-logout URI.
	step("sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("signed-out")))
	if loc, err := chromedp.Run(tab, chromedp.Location()); err != nil || loc != "http://localhost:5173/" {
		t.Fatalf("after sign-out at %q (%v), want http://localhost:5173/", loc, err)
	}
	// Signed out at Herald too: signing in again asks for the password.
	step("sign in again", chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)))
}
