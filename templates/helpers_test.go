package templates

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// rendered is one page's output, both raw (for byte-level checks) and parsed.
type rendered struct {
	raw string
	doc *html.Node
}

// mustRender renders page and parses the result with the HTML5 parser browsers use.
func mustRender(t *testing.T, page any) rendered {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, page); err != nil {
		t.Fatalf("Render(%T): %v", page, err)
	}
	raw := buf.String()
	doc, err := html.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("parse %T output: %v", page, err)
	}
	return rendered{raw: raw, doc: doc}
}

// findAll returns every element below n for which match is true, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// elements returns every element with the given tag name.
func elements(n *html.Node, tag string) []*html.Node {
	return findAll(n, func(e *html.Node) bool { return e.Data == tag })
}

// attr returns the value of the attribute key and whether it is present.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is the concatenated text content of n with runs of whitespace collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// body is the text of the <body> element.
func (r rendered) body(t *testing.T) string {
	t.Helper()
	bodies := elements(r.doc, "body")
	if len(bodies) != 1 {
		t.Fatalf("want one <body>, got %d", len(bodies))
	}
	return text(bodies[0])
}

// inputs maps input name → element for every named <input> in the document.
// A duplicate name fails the test: every form field here must be unique.
func (r rendered) inputs(t *testing.T) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	for _, in := range elements(r.doc, "input") {
		name, ok := attr(in, "name")
		if !ok {
			continue
		}
		if _, dup := out[name]; dup {
			t.Fatalf("duplicate input name %q", name)
		}
		out[name] = in
	}
	return out
}

// form returns the document's only <form>, failing if there is not exactly one.
func (r rendered) form(t *testing.T) *html.Node {
	t.Helper()
	forms := elements(r.doc, "form")
	if len(forms) != 1 {
		t.Fatalf("want one <form>, got %d", len(forms))
	}
	return forms[0]
}

// decisionButtons maps the value of each button named "decision" to its text.
func (r rendered) decisionButtons(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range elements(r.form(t), "button") {
		if name, _ := attr(b, "name"); name != "decision" {
			continue
		}
		if typ, _ := attr(b, "type"); typ != "submit" {
			t.Errorf("decision button %q has type %q, want submit", text(b), typ)
		}
		v, _ := attr(b, "value")
		out[v] = text(b)
	}
	return out
}

// wantAttr fails unless element n has attribute key with exactly value want.
func wantAttr(t *testing.T, n *html.Node, key, want string) {
	t.Helper()
	got, ok := attr(n, key)
	if !ok {
		t.Errorf("<%s name=%q>: missing attribute %s", n.Data, nameOf(n), key)
		return
	}
	if got != want {
		t.Errorf("<%s name=%q>: %s = %q, want %q", n.Data, nameOf(n), key, got, want)
	}
}

func nameOf(n *html.Node) string {
	v, _ := attr(n, "name")
	return v
}
