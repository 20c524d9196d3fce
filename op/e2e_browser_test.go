package op_test

// The browser of the end-to-end tests: an http.Client with a cookie jar
// that follows Herald's own redirects (authorize → login → consent) and
// stops at the first redirect that leaves Herald, so that the test can read
// the authorization response from its Location. Forms are read with
// golang.org/x/net/html like a browser would, not with string matching.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

type browser struct {
	t      *testing.T
	client *http.Client
}

// newBrowser returns a browser with an empty cookie jar.
func (e *testEnv) newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	host := e.ts.Listener.Addr().String()
	return &browser{t: t, client: &http.Client{
		Jar:       jar,
		Transport: e.ts.Client().Transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != host {
				return http.ErrUseLastResponse // the relying party: stop here
			}
			if len(via) >= 10 {
				return errors.New("redirect loop")
			}
			return nil
		},
	}}
}

// page is the last response a browser navigation produced.
type page struct {
	status int
	header http.Header
	body   string
	url    *url.URL // of the request that produced this response
	resp   *http.Response
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL, resp: resp}
}

func (b *browser) get(rawURL string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatalf("bad URL %q: %v", rawURL, err)
	}
	return b.do(req)
}

func (b *browser) post(rawURL string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, nil)
	if err != nil {
		b.t.Fatalf("bad URL %q: %v", rawURL, err)
	}
	setFormBody(req, form.Encode())
	return b.do(req)
}

// cookie returns the browser's cookie called name for rawURL, or "".
func (b *browser) cookie(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func setFormBody(req *http.Request, body string) {
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
}

// htmlForm is the first <form> of a page.
type htmlForm struct {
	action  string
	method  string
	hidden  url.Values          // hidden inputs with their values
	inputs  map[string]string   // every named input → its type
	buttons map[string][]string // submit buttons: name → values
}

// form parses the page's first form; the test fails if there is none.
func (p *page) form(t *testing.T) *htmlForm {
	t.Helper()
	f := findForm(p.body)
	if f == nil {
		t.Fatalf("no form on page (%d):\n%s", p.status, p.body)
	}
	return f
}

func findForm(body string) *htmlForm {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	var formNode *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" {
			formNode = n
			break
		}
	}
	if formNode == nil {
		return nil
	}
	f := &htmlForm{
		action: attr(formNode, "action"), method: strings.ToUpper(attr(formNode, "method")),
		hidden: url.Values{}, inputs: map[string]string{}, buttons: map[string][]string{},
	}
	for n := range formNode.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		name := attr(n, "name")
		switch {
		case n.Data == "input" && name != "":
			typ := strings.ToLower(attr(n, "type"))
			f.inputs[name] = typ
			if typ == "hidden" {
				f.hidden.Add(name, attr(n, "value"))
			}
		case n.Data == "button" && name != "":
			f.buttons[name] = append(f.buttons[name], attr(n, "value"))
		}
	}
	return f
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// textOf returns the text of every element with the given class.
func textOf(body, class string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || !strings.Contains(" "+attr(n, "class")+" ", " "+class+" ") {
			continue
		}
		var sb strings.Builder
		for c := range n.Descendants() {
			if c.Type == html.TextNode {
				sb.WriteString(c.Data)
			}
		}
		out = append(out, strings.TrimSpace(sb.String()))
	}
	return out
}

// submit posts the page's form with its hidden fields plus extra.
func (b *browser) submit(p *page, extra url.Values) *page {
	b.t.Helper()
	f := p.form(b.t)
	action, err := p.url.Parse(f.action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.action, err)
	}
	form := cloneValues(f.hidden)
	for k, v := range extra {
		form[k] = v
	}
	return b.post(action.String(), form)
}

// isLoginPage reports whether p is Herald's login form.
func (p *page) isLoginPage() bool {
	if p.status != http.StatusOK && p.status != http.StatusBadRequest {
		return false
	}
	f := findForm(p.body)
	return f != nil && f.inputs["username"] != "" && f.inputs["password"] == "password"
}

// isConsentPage reports whether p is Herald's consent form.
func (p *page) isConsentPage() bool {
	f := findForm(p.body)
	return p.status == http.StatusOK && f != nil && len(f.buttons["decision"]) > 0 && f.hidden.Get("auth_request_id") != ""
}

// login fills in and submits the login form on p.
func (b *browser) login(p *page, username, pw string) *page {
	b.t.Helper()
	if !p.isLoginPage() {
		b.t.Fatalf("expected the login page, got %d %s:\n%s", p.status, p.header.Get("Location"), p.body)
	}
	f := p.form(b.t)
	requireAll(b.t, "login form", field("csrf_token present", f.hidden.Get("csrf_token") != "", true),
		field("auth_request_id present", f.hidden.Get("auth_request_id") != "", true))
	return b.submit(p, url.Values{"username": {username}, "password": {pw}})
}

// location returns the parsed Location of a redirect, or nil.
func (p *page) location() *url.URL {
	if p.status < 300 || p.status > 399 {
		return nil
	}
	u, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		return nil
	}
	return u
}

// requireRedirectTo asserts a redirect to exactly redirectURI (plus query)
// and returns the query.
func (p *page) requireRedirectTo(t *testing.T, redirectURI string) url.Values {
	t.Helper()
	loc := p.location()
	if loc == nil {
		t.Fatalf("expected a redirect to %s, got %d:\n%s", redirectURI, p.status, truncate(p.body))
	}
	base := *loc
	base.RawQuery = ""
	if base.String() != redirectURI {
		t.Fatalf("redirected to %s, want %s", loc, redirectURI)
	}
	return loc.Query()
}

// requireAuthError asserts an error authorization response to redirectURI
// carrying the issuer (RFC 9207 §2 applies to errors too).
func (p *page) requireAuthError(t *testing.T, redirectURI, issuer, code string) url.Values {
	t.Helper()
	q := p.requireRedirectTo(t, redirectURI)
	if q.Get("error") != code {
		t.Fatalf("error = %q (%s), want %q", q.Get("error"), q.Get("error_description"), code)
	}
	if q.Get("iss") != issuer {
		t.Fatalf("iss = %q on an error response, want %q", q.Get("iss"), issuer)
	}
	if q.Get("code") != "" {
		t.Fatalf("error response carries a code")
	}
	return q
}

// requireErrorPage asserts an HTML error page on Herald: the status, no
// redirect at all.
func (p *page) requireErrorPage(t *testing.T, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d (Location %q):\n%s", p.status, status, p.header.Get("Location"), truncate(p.body))
	}
	if loc := p.header.Get("Location"); loc != "" {
		t.Fatalf("error page carries Location %q", loc)
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type = %q, want an HTML page", ct)
	}
}

// doJSON sends a request outside any browser and decodes a JSON body.
func (e *testEnv) doJSON(t *testing.T, req *http.Request) *jsonResponse {
	t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &jsonResponse{status: resp.StatusCode, header: resp.Header, body: string(body)}
	_ = json.Unmarshal(body, &r.json)
	return r
}

// requireNoGoErrors fails if body shows Go internals (checklist D5, K2).
func requireNoGoErrors(t *testing.T, what, body string) {
	t.Helper()
	for _, m := range goErrorMarkers {
		if strings.Contains(body, m) {
			t.Errorf("%s: body contains %q:\n%s", what, m, truncate(body))
		}
	}
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
