package templates

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The pages are served with "style-src 'self'": no inline style can carry a
// tenant's colour. Each tenant therefore gets a small stylesheet of its own,
// generated here from its validated accent colour and served as a file
// (op/login serves it at {issuer}/branding.css), linked after herald.css so
// that its custom properties win.

// accentPattern is the only accent colour ever written into a stylesheet.
// The registry already refuses anything else; this second check means a
// value that reached the store some other way still cannot inject CSS.
var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Colours of herald.css the focus ring is drawn on: the card in light and
// in dark mode, and the dark mode's own focus colour.
var (
	lightCard  = [3]uint8{0xff, 0xff, 0xff}
	darkCard   = [3]uint8{0x15, 0x1b, 0x2d}
	darkFocus  = "#93c5fd"
	minNonText = 3.0 // WCAG 2.2 §1.4.11: focus indicators and other non-text
)

// Text colours on the accent: whichever contrasts more. Pure black and
// white guarantee at least 4.58:1 (WCAG 2.2 §1.4.3 asks 4.5:1) for any
// accent; a softer dark grey would drop to about 4.2:1 on mid tones.
const (
	lightText = "#ffffff"
	darkText  = "#000000"
)

// BrandingStylesheet returns the stylesheet of a tenant whose accent colour
// is accent, and its version: a hash of the content, usable as an HTTP
// entity tag and as a cache-busting query parameter. An empty or invalid
// accent yields a stylesheet without rules (the defaults of herald.css
// apply) and ok false, so that pages need not link it.
func BrandingStylesheet(accent string) (css []byte, version string, ok bool) {
	var b strings.Builder
	b.WriteString("/* Herald tenant branding: generated from the tenant's settings. */\n")
	if ok = accentPattern.MatchString(accent); ok {
		writeAccentRules(&b, strings.ToLower(accent))
	}
	css = []byte(b.String())
	sum := sha256.Sum256(css)
	return css, hex.EncodeToString(sum[:8]), ok
}

// writeAccentRules sets the custom properties herald.css reads. One rule
// serves light and dark mode: it comes after herald.css's own :root rules
// (dark mode included) with the same specificity, so it wins in both.
func writeAccentRules(b *strings.Builder, accent string) {
	rgb := parseHex(accent)
	text := lightText
	if contrast(rgb, [3]uint8{0, 0, 0}) > contrast(rgb, [3]uint8{255, 255, 255}) {
		text = darkText
	}
	// Hover moves away from the text colour, so it keeps (raises) the
	// contrast instead of lowering it.
	hover := mix(rgb, [3]uint8{0, 0, 0}, 0.15)
	if text == darkText {
		hover = mix(rgb, [3]uint8{255, 255, 255}, 0.2)
	}
	// The focus ring takes the accent where it stands out from the card
	// (3:1); elsewhere herald.css's own ring stays.
	focusLight := contrast(rgb, lightCard) >= minNonText
	focusDark := contrast(rgb, darkCard) >= minNonText
	fmt.Fprintf(b, ":root {\n  --accent: %s;\n  --accent-hover: %s;\n  --accent-text: %s;\n", accent, hexColor(hover), text)
	if focusLight {
		fmt.Fprintf(b, "  --focus: %s;\n", accent)
	}
	b.WriteString("}\n")
	// This file comes after herald.css, so its :root rule above also wins
	// over herald.css's dark-mode rule; restore or set the dark ring.
	switch {
	case focusLight && !focusDark:
		fmt.Fprintf(b, "@media (prefers-color-scheme: dark) {\n  :root {\n    --focus: %s;\n  }\n}\n", darkFocus)
	case !focusLight && focusDark:
		fmt.Fprintf(b, "@media (prefers-color-scheme: dark) {\n  :root {\n    --focus: %s;\n  }\n}\n", accent)
	}
}

func parseHex(c string) [3]uint8 {
	var out [3]uint8
	for i := range out {
		v, _ := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8) // validated by accentPattern
		out[i] = uint8(v)
	}
	return out
}

func hexColor(c [3]uint8) string { return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]) }

// mix moves c towards to by the fraction f.
func mix(c, to [3]uint8, f float64) [3]uint8 {
	var out [3]uint8
	for i := range c {
		out[i] = uint8(math.Round(float64(c[i]) + (float64(to[i])-float64(c[i]))*f))
	}
	return out
}

// luminance is the relative luminance of an sRGB colour (WCAG 2.2,
// "relative luminance").
func luminance(c [3]uint8) float64 {
	var l [3]float64
	for i, v := range c {
		s := float64(v) / 255
		if s <= 0.04045 {
			l[i] = s / 12.92
		} else {
			l[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG contrast ratio of two colours, 1 to 21.
func contrast(a, b [3]uint8) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// maxShownRunes bounds a value an error page repeats back (a rejected
// client_id or redirect_uri): long enough to recognise a URL, short enough
// that a hostile one cannot fill the page.
const maxShownRunes = 120

// shorten makes an untrusted value fit to be shown: characters that are not
// printable (controls, bidirectional overrides that could make a URL read
// differently, invalid UTF-8) become \u escapes, and a long value keeps its
// beginning and end around an ellipsis. html/template still escapes the
// result for its context.
func shorten(s string) string {
	var runes []string
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r == '\uFFFD' || !strconv.IsPrint(r) {
			runes = append(runes, fmt.Sprintf(`\u%04x`, r))
			continue
		}
		runes = append(runes, string(r))
	}
	if len(runes) > maxShownRunes {
		const tail = 30
		runes = append(append(runes[:maxShownRunes-tail-1:maxShownRunes-tail-1], "…"), runes[len(runes)-tail:]...)
	}
	return strings.Join(runes, "")
}
