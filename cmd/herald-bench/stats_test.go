package main

import (
	"strings"
	"testing"
	"time"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", durations(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"p0 is the min", hundred, 0, 1 * time.Millisecond},
		{"p50 of 4 is the 2nd", durations(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p51 of 4 is the 3rd", durations(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"p95 of 10 is the 10th", durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10 * time.Millisecond},
		{"p90 of 10 is the 9th", durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSortsAndReportsObservedValues(t *testing.T) {
	s := summarize(durations(30, 10, 20, 50, 40))
	if s.count != 5 || s.p50 != 30*time.Millisecond || s.p95 != 50*time.Millisecond || s.max != 50*time.Millisecond {
		t.Errorf("summary = %+v", s)
	}
	if got := median(durations(9, 1, 5)); got != 5*time.Millisecond {
		t.Errorf("median = %v, want 5ms", got)
	}
	if s := summarize(nil); s.count != 0 || s.p99 != 0 {
		t.Errorf("empty summary = %+v", s)
	}
}

func TestErrorTallyKeepsEveryKind(t *testing.T) {
	a, b := newErrorTally(), newErrorTally()
	a.add("HTTP 500 at token", "first body")
	a.add("HTTP 500 at token", "second body")
	b.add("token: EOF", "EOF")
	b.add("HTTP 500 at token", "third body")
	a.merge(b)
	if a.total() != 4 {
		t.Fatalf("total = %d, want 4", a.total())
	}
	lines := a.lines()
	want := []string{"3 × HTTP 500 at token: first body", "1 × token: EOF: EOF"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines = %q, want %q", lines, want)
	}
}

func TestTruncateText(t *testing.T) {
	if got := truncateText("a\n  b\tc", 10); got != "a b c" {
		t.Errorf("got %q", got)
	}
	if got := truncateText("ééééé", 3); got != "ééé…" {
		t.Errorf("got %q", got)
	}
}
