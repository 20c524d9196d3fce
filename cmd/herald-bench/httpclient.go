package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/html"
)

const (
	// requestTimeout bounds any one request; a login waiting for a hashing
	// slot takes at most HERALD_HASH_MAX_WAIT (3 s) plus one hash.
	requestTimeout = 30 * time.Second
	maxBodyBytes   = 1 << 20
)

// httpClient is a keep-alive client for one workload: one connection per
// worker stays open for the whole run.
type httpClient struct {
	client *http.Client
	// browser is the transport of login flows: one connection per
	// request, so that consecutive logins come from different source
	// addresses, as different users' would (loopbackSource).
	browser *http.Transport
}

func newHTTPClient(concurrency int) *httpClient { return newHTTPClientFrom(concurrency, "") }

// sourceCounter spreads new connections over loopback source addresses.
var sourceCounter atomic.Uint32

// loopbackSource is the source address of a new connection: fixed when
// given, else 127.0.1.1-127.0.1.250 in turn. The bench is many users, not
// one address: Herald throttles and caps hashing per source address
// (docs/security.md), and Linux routes all of 127.0.0.0/8 to loopback.
func loopbackSource(fixed string) net.Addr {
	ip := fixed
	if ip == "" {
		ip = fmt.Sprintf("127.0.1.%d", 1+sourceCounter.Add(1)%250)
	}
	return &net.TCPAddr{IP: net.ParseIP(ip)}
}

// newHTTPClientFrom is newHTTPClient whose connections come from source
// ("" = spread over many loopback addresses).
func newHTTPClientFrom(concurrency int, source string) *httpClient {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: 10 * time.Second}
		if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host).IsLoopback() && net.ParseIP(host).To4() != nil {
			d.LocalAddr = loopbackSource(source)
		}
		return d.DialContext(ctx, network, addr)
	}
	t := &http.Transport{
		DialContext:         dial,
		Proxy:               nil, // loopback only, never through a proxy
		MaxIdleConns:        concurrency + 16,
		MaxIdleConnsPerHost: concurrency + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	browser := t.Clone()
	browser.DisableKeepAlives = source == ""
	return &httpClient{client: &http.Client{
		Transport: t,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, browser: browser}
}

func (c *httpClient) close() {
	c.client.CloseIdleConnections()
	c.browser.CloseIdleConnections()
}

// response is a fully read response.
type response struct {
	status int
	header http.Header
	body   []byte
	url    *url.URL // of the request that produced it (after redirects)
}

// send does req and reads the whole body, so the connection is reused.
func send(c *http.Client, req *http.Request) (*response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: body, url: resp.Request.URL}, nil
}

func (c *httpClient) get(ctx context.Context, rawURL string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return send(c.client, req)
}

// getBearer GETs rawURL with an access token in the Authorization header.
func (c *httpClient) getBearer(ctx context.Context, rawURL, token string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return send(c.client, req)
}

// postForm POSTs form authenticated as client cl: HTTP Basic for a
// confidential client (RFC 6749 §2.3.1, form-encoded ID and secret), the
// client_id in the body for a public one.
func (c *httpClient) postForm(ctx context.Context, endpoint string, cl rpClient, form url.Values) (*response, error) {
	if cl.public() {
		form.Set("client_id", cl.id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !cl.public() {
		req.SetBasicAuth(url.QueryEscape(cl.id), url.QueryEscape(cl.secret))
	}
	return send(c.client, req)
}

// refused reports whether the server shed load as it should under a storm:
// 503 or 429 with Retry-After.
func (r *response) refused() bool {
	return (r.status == http.StatusServiceUnavailable || r.status == http.StatusTooManyRequests) &&
		r.header.Get("Retry-After") != ""
}

func (r *response) stepError(step string) *stepError {
	return &stepError{step: step, status: r.status, refused: r.refused(), body: string(r.body)}
}

// stepError is a failed step of a request or a login flow.
type stepError struct {
	step    string
	status  int // 0: no HTTP response
	refused bool
	body    string
	err     error
}

func (e *stepError) Error() string {
	if e.err != nil {
		return e.step + ": " + e.err.Error()
	}
	return fmt.Sprintf("%s: HTTP %d %s", e.step, e.status, truncateText(e.body, 120))
}

// outcome is the result of one request (or one whole login for W5).
type outcome struct {
	ok      bool
	refused bool   // 503/429 with Retry-After
	kind    string // for the error tally: "HTTP 500 at token", "token: EOF"
	sample  string
}

var success = outcome{ok: true}

// failure classifies err for the report.
func failure(err error) outcome {
	var se *stepError
	if errors.As(err, &se) {
		if se.status != 0 {
			o := outcome{kind: fmt.Sprintf("HTTP %d at %s", se.status, se.step), sample: bodySample(se.body), refused: se.refused}
			if se.refused {
				o.kind += " (Retry-After)"
			}
			return o
		}
		return outcome{kind: se.step + ": " + truncateText(errorClass(se.err), 80), sample: se.err.Error()}
	}
	return outcome{kind: truncateText(errorClass(err), 80), sample: err.Error()}
}

// errorClass strips the variable parts (URLs) from transport errors so
// that equal failures are counted together.
func errorClass(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// expectStatus turns a response into an outcome: 200 whose body contains
// want (if want is not empty), anything else an error at step.
func expectStatus(r *response, err error, step, want string) outcome {
	if err != nil {
		return failure(&stepError{step: step, err: err})
	}
	if r.status != http.StatusOK {
		return failure(r.stepError(step))
	}
	if want != "" && !strings.Contains(string(r.body), want) {
		return failure(&stepError{step: step, err: fmt.Errorf("response lacks %s", want)})
	}
	return success
}

// bodySample is what the report quotes of an error body: JSON as it is, an
// HTML page as its visible text (title, headings, paragraphs).
func bodySample(body string) string {
	trimmed := strings.TrimSpace(body)
	if !strings.HasPrefix(trimmed, "<") {
		return body
	}
	doc, err := html.Parse(strings.NewReader(trimmed))
	if err != nil {
		return body
	}
	var parts []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "title", "h1", "h2", "p":
			var sb strings.Builder
			for c := range n.Descendants() {
				if c.Type == html.TextNode {
					sb.WriteString(c.Data)
				}
			}
			if t := strings.Join(strings.Fields(sb.String()), " "); t != "" && !slices.Contains(parts, t) {
				parts = append(parts, t)
			}
		}
	}
	if len(parts) == 0 {
		return body
	}
	return "page: " + strings.Join(parts, " / ")
}
