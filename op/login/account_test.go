package login

import (
	"strings"
	"testing"
	"time"
)

func TestUserAgentLabel(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0":                                                                  "Firefox on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                      "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36":                            "Chrome on Android",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1":  "Chrome on iOS",
		"curl/8.5.0":         "curl",
		"":                   "Unknown browser",
		"Go-http-client/1.1": "Unknown browser",
		"Mozilla/5.0 (X11; Linux x86_64) <script>alert(1)</script>": "Browser on Linux",
	} {
		if got := userAgentLabel(ua); got != want {
			t.Errorf("userAgentLabel(%q) = %q, want %q", ua, got, want)
		}
	}
	// Whatever is sent, the label is short and made of fixed words.
	if got := userAgentLabel(strings.Repeat("Firefox/1 ", 10000)); len(got) > 40 {
		t.Errorf("label of a huge header: %d bytes", len(got))
	}
}

func TestApproxTime(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		30 * time.Second:    "just now",
		5 * time.Minute:     "5 minutes ago",
		90 * time.Minute:    "an hour ago",
		5 * time.Hour:       "5 hours ago",
		30 * time.Hour:      "yesterday",
		5 * 24 * time.Hour:  "5 days ago",
		40 * 24 * time.Hour: "on 23 October 2026",
		-time.Minute:        "just now", // a clock a little ahead
	} {
		if got := approxTime(now.Add(-d), now); got != want {
			t.Errorf("approxTime(-%v) = %q, want %q", d, got, want)
		}
	}
	if got := approxTime(time.Time{}, now); got != "at an unknown time" {
		t.Errorf("zero time: %q", got)
	}
}
