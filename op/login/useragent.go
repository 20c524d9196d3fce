package login

import "strings"

// userAgentLabel summarises a User-Agent header as "Browser on System" for
// the account page's session list. Only the label is stored, never the
// header: it says enough to recognise one's own devices and is bounded in
// length whatever the client sends.
func userAgentLabel(ua string) string {
	browser, system := uaBrowser(ua), uaSystem(ua)
	switch {
	case browser == "" && system == "":
		return "Unknown browser"
	case browser == "":
		return "Browser on " + system
	case system == "":
		return browser
	}
	return browser + " on " + system
}

// uaBrowser names the browser. Order matters: Edge and Opera also say
// Chrome, Chrome also says Safari.
func uaBrowser(ua string) string {
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"},
		{"EdgA/", "Edge"},
		{"EdgiOS/", "Edge"},
		{"OPR/", "Opera"},
		{"SamsungBrowser/", "Samsung Internet"},
		{"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"},
		{"HeadlessChrome/", "Headless Chrome"},
		{"Chromium/", "Chromium"},
		{"Chrome/", "Chrome"},
		{"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			return b.name
		}
	}
	return ""
}

// uaSystem names the operating system.
func uaSystem(ua string) string {
	for _, s := range []struct{ token, name string }{
		{"iPhone", "iOS"},
		{"iPad", "iPadOS"},
		{"Android", "Android"},
		{"CrOS", "ChromeOS"},
		{"Windows", "Windows"},
		{"Mac OS X", "macOS"},
		{"Macintosh", "macOS"},
		{"Linux", "Linux"},
		{"FreeBSD", "FreeBSD"},
	} {
		if strings.Contains(ua, s.token) {
			return s.name
		}
	}
	return ""
}
