package login

import (
	"math"
	"testing"
	"time"

	"github.com/herald-idp/herald/storage"
)

func TestSatisfiesMaxAge(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	age := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name     string
		maxAge   *int64
		authTime time.Time
		want     bool
	}{
		{"no max_age", nil, now.Add(-365 * 24 * time.Hour), true},
		{"zero forces login", age(0), now, false},
		{"within", age(60), now.Add(-59 * time.Second), true},
		{"exactly at the limit", age(60), now.Add(-60 * time.Second), true},
		{"one second over", age(60), now.Add(-61 * time.Second), false},
		{"huge does not overflow", age(math.MaxInt64), now.Add(-100 * 365 * 24 * time.Hour), true},
		{"largest without overflow", age(int64(math.MaxInt64 / time.Second)), now.Add(-time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := satisfiesMaxAge(tc.maxAge, tc.authTime, now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReusableSession(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sess := &storage.Session{UserID: "alice", AuthTime: now.Add(-10 * time.Minute)}
	five, hour := int64(300), int64(3600)
	for _, tc := range []struct {
		name string
		ar   storage.AuthRequest
		want bool
	}{
		{"plain request", storage.AuthRequest{}, true},
		{"prompt=none", storage.AuthRequest{Prompt: []string{"none"}}, true},
		{"prompt=consent", storage.AuthRequest{Prompt: []string{"consent"}}, true},
		{"prompt=login", storage.AuthRequest{Prompt: []string{"login"}}, false},
		{"prompt=select_account", storage.AuthRequest{Prompt: []string{"select_account"}}, false},
		{"max_age older than login", storage.AuthRequest{MaxAge: &five}, false},
		{"max_age newer than login", storage.AuthRequest{MaxAge: &hour}, true},
		{"hint names the user", storage.AuthRequest{HintSubject: "alice"}, true},
		{"hint names someone else", storage.AuthRequest{HintSubject: "bob"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reusableSession(&tc.ar, sess, now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
