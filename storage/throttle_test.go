package storage

import (
	"testing"
	"time"
)

func TestRuleDelay(t *testing.T) {
	rule := ThrottleRule{Free: 2, Base: time.Second, Max: 4 * time.Second, Window: time.Minute}
	for n, want := range map[int]time.Duration{0: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second, 6: 4 * time.Second, 100: 4 * time.Second} {
		if got := rule.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
}
