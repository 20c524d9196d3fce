package op_test

// The real browser of the TestBrowser suite: Debian's headless Chromium
// driven over the DevTools protocol with chromedp. Where the cookie-jar
// browser of e2e_browser_test.go proves the protocol, this one proves what
// only a browser enforces: CSP, frame-ancestors, X-Frame-Options, cookies
// as Chromium stores them, and that the pages render.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// browserTestTimeout bounds a whole browser test: a stuck browser
	// fails the test instead of hanging the suite.
	browserTestTimeout = 60 * time.Second
)

// chromium is one headless Chromium with one tab, recording what the tab
// logged and which documents it requested.
type chromium struct {
	t   *testing.T
	ctx context.Context // the tab; ends at browserTestTimeout

	mu        sync.Mutex
	console   []consoleEntry
	documents []string // URLs of every document request, redirects included
}

// newChromium starts Chromium for t. Without Chromium the test is skipped
// locally, but fails in CI, which must not skip silently.
func newChromium(t *testing.T) *chromium {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("%s not installed: %v", chromiumPath, err)
	}
	profile := filepath.Join(t.TempDir(), "profile")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		// Without these, Chromium's own background traffic (updates, sync,
		// QUIC) meets refused connections on a closed network such as CI.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), browserTestTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	c := &chromium{t: t}
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(c.record))
	c.ctx = tab
	// Registered after t.TempDir, so it runs before the profile is removed:
	// cancelAlloc waits for the browser to exit.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	// The first action starts the browser and binds it to the timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return c
}

// consoleEntry is one console call, uncaught exception or browser log
// entry of the tab.
type consoleEntry struct {
	level string // "error", "warning", "info", "verbose", or the console call
	text  string // with the source and URL, ready to print
}

// serious reports whether e is an error or a warning, or concerns the
// Content Security Policy at any level.
func (e consoleEntry) serious() bool {
	switch e.level {
	case "error", "warning", "assert":
		return true
	}
	return strings.Contains(e.text, "Content Security Policy")
}

func (e consoleEntry) String() string { return e.level + ": " + e.text }

// record runs on chromedp's read loop for every event of the tab: it must
// be fast and must not call back into the browser.
func (c *chromium) record(ev any) {
	var entry consoleEntry
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Value != nil {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		entry = consoleEntry{string(ev.Type), "console: " + strings.Join(args, " ")}
	case *runtime.EventExceptionThrown:
		text := "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			text += " " + ev.ExceptionDetails.Exception.Description
		}
		entry = consoleEntry{"error", text}
	case *log.EventEntryAdded:
		entry = consoleEntry{string(ev.Entry.Level),
			fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)}
	case *network.EventRequestWillBeSent:
		if ev.Type == network.ResourceTypeDocument {
			c.mu.Lock()
			c.documents = append(c.documents, ev.Request.URL)
			c.mu.Unlock()
		}
		return
	default:
		return
	}
	c.mu.Lock()
	c.console = append(c.console, entry)
	c.mu.Unlock()
}

// consoleEntries returns what the tab logged so far.
func (c *chromium) consoleEntries() []consoleEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]consoleEntry(nil), c.console...)
}

// takeDocuments returns the documents requested since the last call.
func (c *chromium) takeDocuments() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	docs := c.documents
	c.documents = nil
	return docs
}

// do runs actions in the tab and fails the test on error.
func (c *chromium) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v\nconsole: %v", what, err, c.consoleEntries())
	}
}

// eval evaluates a JavaScript expression in the tab's current document.
func eval[T any](c *chromium, expr string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// location is the URL of the tab's current document.
func (c *chromium) location() *url.URL {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		c.t.Fatalf("location %q: %v", loc, err)
	}
	return u
}

// relyingParty is a client application on loopback: /callback and /bye
// record their query and show a tiny page a test can wait for.
type relyingParty struct {
	ts *httptest.Server

	mu        sync.Mutex
	callbacks []url.Values
	byes      []url.Values
}

// rpPage is the body of the relying party's pages; the id tells a test
// which one it is on.
const rpPage = `<!doctype html><html><head><meta charset="utf-8"><title>RP</title></head>` +
	`<body><p id="%s">relying party</p></body></html>`

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.callbacks = append(rp.callbacks, r.URL.Query())
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, rpPage, "rp-callback")
	})
	mux.HandleFunc("GET /bye", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		rp.byes = append(rp.byes, r.URL.Query())
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, rpPage, "rp-bye")
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	rp.ts = httptest.NewServer(mux)
	t.Cleanup(rp.ts.Close)
	return rp
}

// lastCallback is the query of the latest /callback request.
func (rp *relyingParty) lastCallback(t *testing.T) url.Values {
	t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.callbacks) == 0 {
		t.Fatal("the relying party got no callback")
	}
	return rp.callbacks[len(rp.callbacks)-1]
}

// lastBye is the query of the latest /bye request.
func (rp *relyingParty) lastBye(t *testing.T) url.Values {
	t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.byes) == 0 {
		t.Fatal("the relying party got no post-logout redirect")
	}
	return rp.byes[len(rp.byes)-1]
}

// frameDocument is what one cross-site iframe of the tab shows.
type frameDocument struct {
	URL         string // the frame target's URL
	Location    string // location.href inside the frame
	ReadyState  string // document.readyState inside the frame
	HasPassword bool   // a password field: Herald's login form rendered
	IsRP        bool   // the relying party's page rendered
}

// frameDocuments inspects every cross-site iframe of the browser. Chromium
// runs such a frame in its own process as a target of type "iframe" (site
// isolation), which the DOM of the embedding page does not reach, so each
// is attached to and asked directly.
func (c *chromium) frameDocuments() ([]frameDocument, error) {
	infos, err := chromedp.Targets(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	var out []frameDocument
	for _, info := range infos {
		if info.Type != "iframe" {
			continue
		}
		// Detach on cancel: closing an iframe target would remove the frame.
		frameCtx, cancel := chromedp.NewContext(c.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
		doc, err := chromedp.Run(frameCtx, chromedp.Evaluate[frameDocument](`({
			Location: location.href,
			ReadyState: document.readyState,
			HasPassword: document.querySelector('input[name=password]') !== null,
			IsRP: document.getElementById('rp-callback') !== null,
		})`))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("inspect frame %s: %w", info.URL, err)
		}
		doc.URL = info.URL
		out = append(out, doc)
	}
	return out, nil
}

// loadedFrames waits until the tab has at least want cross-site iframes
// that have all finished loading, and returns them. A frame can swap its
// target while it navigates, so a failed inspection is retried.
func (c *chromium) loadedFrames(want int) []frameDocument {
	c.t.Helper()
	for {
		docs, err := c.frameDocuments()
		loaded := err == nil && len(docs) >= want
		for _, d := range docs {
			loaded = loaded && d.ReadyState == "complete"
		}
		if loaded {
			return docs
		}
		select {
		case <-c.ctx.Done():
			c.t.Fatalf("waiting for %d loaded iframes: %v (last %+v, %v)", want, c.ctx.Err(), docs, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
