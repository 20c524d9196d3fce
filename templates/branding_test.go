package templates

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// TestBrandingStylesheet: a valid accent becomes the custom properties
// herald.css reads; the version is a stable content hash.
func TestBrandingStylesheet(t *testing.T) {
	css, version, ok := BrandingStylesheet("#0A5CFF")
	if !ok {
		t.Fatal("a valid accent was refused")
	}
	for _, want := range []string{"--accent: #0a5cff;", "--accent-text: #ffffff;", "--accent-hover: #"} {
		if !strings.Contains(string(css), want) {
			t.Errorf("stylesheet lacks %q:\n%s", want, css)
		}
	}
	if _, again, _ := BrandingStylesheet("#0a5cff"); again != version {
		t.Errorf("version of the same colour changed: %s, %s", version, again)
	}
	if _, other, _ := BrandingStylesheet("#0a5cfe"); other == version {
		t.Error("two colours share a version: a cached stylesheet would never change")
	}
	if len(version) != 16 || strings.Trim(version, "0123456789abcdef") != "" {
		t.Errorf("version %q is not 16 hex digits (it goes into an ETag and a URL)", version)
	}

	light, _, _ := BrandingStylesheet("#ffd54f")
	if !strings.Contains(string(light), "--accent-text: #000000;") {
		t.Errorf("a light accent must carry dark text:\n%s", light)
	}

	// The focus ring takes the accent only where it stands out (3:1) from
	// the card: a dark accent in light mode, a light one in dark mode.
	if !strings.Contains(string(css), "  --focus: #0a5cff;\n}") {
		t.Errorf("a dark accent should colour the focus ring in light mode:\n%s", css)
	}
	if strings.Contains(string(light), "  --focus: #ffd54f;\n}\n@media") ||
		!strings.Contains(string(light), "@media (prefers-color-scheme: dark) {\n  :root {\n    --focus: #ffd54f;") {
		t.Errorf("a light accent should colour the focus ring in dark mode only:\n%s", light)
	}
	navy, _, _ := BrandingStylesheet("#0b1a4a")
	if !strings.Contains(string(navy), "--focus: #0b1a4a;") || !strings.Contains(string(navy), "--focus: "+darkFocus) {
		t.Errorf("a navy accent on the dark card should keep herald.css's dark ring:\n%s", navy)
	}
}

// TestBrandingStylesheetRefusesInjection: the stylesheet's second check;
// anything but #rrggbb yields no rule at all, whatever reached the store.
func TestBrandingStylesheetRefusesInjection(t *testing.T) {
	for _, accent := range []string{"", "red", "#fff", "#0a5cff;}body{display:none", "#0a5cff\n}*{color:red",
		"#0a5cff80", "rgb(1,2,3)", "#0a5cff/*", "</style><script>", "#0a5cfg"} {
		css, _, ok := BrandingStylesheet(accent)
		if ok || strings.Contains(string(css), "{") || strings.Contains(string(css), "--accent") {
			t.Errorf("accent %q: ok=%v, stylesheet has rules:\n%s", accent, ok, css)
		}
	}
}

// TestAccentTextContrast: whatever the accent, the button text on it
// reaches WCAG's 4.5:1, and hover does not lower it.
func TestAccentTextContrast(t *testing.T) {
	for r := 0; r < 256; r += 15 {
		for g := 0; g < 256; g += 15 {
			for b := 0; b < 256; b += 15 {
				c := [3]uint8{uint8(r), uint8(g), uint8(b)}
				var sb strings.Builder
				writeAccentRules(&sb, hexColor(c))
				css := sb.String()
				text := [3]uint8{255, 255, 255}
				if strings.Contains(css, "--accent-text: #000000") {
					text = [3]uint8{0, 0, 0}
				}
				if got := contrast(c, text); got < 4.5 {
					t.Fatalf("%s: text contrast %.2f < 4.5", hexColor(c), got)
				}
				i := strings.Index(css, "--accent-hover: #")
				hover := parseHex(css[i+len("--accent-hover: ") : i+len("--accent-hover: ")+7])
				if contrast(hover, text) < contrast(c, text)-0.01 {
					t.Fatalf("%s: hover %s lowers the contrast", hexColor(c), hexColor(hover))
				}
			}
		}
	}
}

// TestBrandingStylesheetLink: the tenant's stylesheet is linked after
// herald.css (its rules must win), and only when set.
func TestBrandingStylesheetLink(t *testing.T) {
	b := testBranding
	b.StylesheetURL = "/t/acme/branding.css?v=0123456789abcdef"
	r := mustRender(t, LoginPage{Branding: b})
	links := findAll(r.doc, func(n *html.Node) bool {
		rel, _ := attr(n, "rel")
		return n.Data == "link" && rel == "stylesheet"
	})
	if len(links) != 2 {
		t.Fatalf("want two stylesheet links, got %d", len(links))
	}
	wantAttr(t, links[0], "href", "/static/herald.css")
	wantAttr(t, links[1], "href", b.StylesheetURL)
	assertCSPSafe(t, r)
}

// TestErrorPageNamesRejectedValue: the refused parameter is shown, escaped,
// shortened and with invisible characters made visible.
func TestErrorPageNamesRejectedValue(t *testing.T) {
	long := "https://rp.example/cb?" + strings.Repeat("a", 500) + "&end=TAIL"
	for _, tc := range []struct {
		name, value string
		want        string // text the <code> element must show
		notRaw      string // must not appear raw in the output
	}{
		{"plain", "web-app", "web-app", ""},
		{"markup", `<script>alert(1)</script>"`, `<script>alert(1)</script>"`, "<script>"},
		{"bidi override", "evil\u202Egpj.exe", `evil\u202egpj.exe`, "\u202E"},
		{"control", "a\x00b\nc", `a\u0000b\u000ac`, "\x00"},
		{"invalid utf-8", "a\xffb", `a\ufffdb`, "\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRender(t, ErrorPage{Branding: testBranding, Title: "Unknown application",
				RequestID: "req-1", RejectedName: "client_id", RejectedValue: tc.value})
			code := findAll(r.doc, func(n *html.Node) bool {
				class, _ := attr(n, "class")
				return class == "rejected-value"
			})
			if len(code) != 1 || text(code[0]) != tc.want {
				t.Fatalf("rejected value elements %d, want one showing %q:\n%s", len(code), tc.want, r.raw)
			}
			if dt := elements(r.doc, "dt"); len(dt) != 1 || text(dt[0]) != "client_id" {
				t.Errorf("the parameter is not named client_id:\n%s", r.raw)
			}
			if tc.notRaw != "" && strings.Contains(r.raw, tc.notRaw) {
				t.Errorf("output contains %q raw", tc.notRaw)
			}
			assertCSPSafe(t, r)
		})
	}

	t.Run("long value", func(t *testing.T) {
		got := shorten(long)
		if n := utf8.RuneCountInString(got); n != maxShownRunes {
			t.Errorf("shortened to %d runes, want %d: %q", n, maxShownRunes, got)
		}
		if !strings.HasPrefix(got, "https://rp.example/cb?") || !strings.HasSuffix(got, "&end=TAIL") || !strings.Contains(got, "…") {
			t.Errorf("shortened value %q lost its beginning or end", got)
		}
	})

	t.Run("nothing rejected", func(t *testing.T) {
		r := mustRender(t, ErrorPage{Branding: testBranding, Title: "Sign-in expired", RequestID: "req-1"})
		if len(elements(r.doc, "dl")) != 0 {
			t.Errorf("a page without a rejected value shows one:\n%s", r.raw)
		}
	})
}

// TestPageOutsideTenant: a page with no tenant (unknown tenant, 404) is
// Herald's.
func TestPageOutsideTenant(t *testing.T) {
	r := mustRender(t, ErrorPage{Title: "Unknown sign-in service"})
	if title := text(elements(r.doc, "title")[0]); title != "Unknown sign-in service · Herald" {
		t.Errorf("<title> = %q", title)
	}
}
