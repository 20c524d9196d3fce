package op

import (
	"testing"
	"time"
)

func TestPublicURLProblem(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://id.example.com", true},
		{"http://127.0.0.1:8080", true},
		{"https://id.example.com/base", true},
		{"https://id.example.com/", false},
		{"ftp://id.example.com", false},
		{"id.example.com", false},
		{"https://user:pw@id.example.com", false},
		{"https://id.example.com?x=1", false},
		{"https://id.example.com?", false},
		{"https://id.example.com#f", false},
	} {
		if got := PublicURLProblem(tc.url); (got == "") != tc.ok {
			t.Errorf("PublicURLProblem(%q) = %q, want ok=%v", tc.url, got, tc.ok)
		}
	}
}

func TestLifetimeProblems(t *testing.T) {
	if p := DefaultLifetimes().Problems(); len(p) != 0 {
		t.Fatalf("defaults: %+v", p)
	}
	for _, tc := range []struct {
		name  string
		set   func(*Lifetimes)
		field string
	}{
		{"zero access token", func(l *Lifetimes) { l.AccessToken = 0 }, "AccessToken"},
		{"negative refresh token", func(l *Lifetimes) { l.RefreshToken = -time.Hour }, "RefreshToken"},
		{"long auth code", func(l *Lifetimes) { l.AuthCode = 61 * time.Second }, "AuthCode"},
		{"idle beyond absolute", func(l *Lifetimes) { l.SessionIdle = l.SessionAbsolute + time.Second }, "SessionIdle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := DefaultLifetimes()
			tc.set(&l)
			p := l.Problems()
			if len(p) != 1 || p[0].Field != tc.field || p[0].Message == "" {
				t.Fatalf("problems %+v, want exactly one on %s", p, tc.field)
			}
		})
	}
}
