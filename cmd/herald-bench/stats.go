package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted: the smallest value with at least p% of the samples at or below
// it. No interpolation, so every reported latency was actually observed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(float64(len(sorted))*p/100 + 0.9999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median of unsorted samples (sorted in place).
func median(samples []time.Duration) time.Duration {
	slices.Sort(samples)
	return percentile(samples, 50)
}

// latencySummary is what the report shows of one workload's latencies.
type latencySummary struct {
	count         int
	p50, p95, p99 time.Duration
	max           time.Duration
}

func summarize(latencies []time.Duration) latencySummary {
	slices.Sort(latencies)
	s := latencySummary{count: len(latencies)}
	if len(latencies) > 0 {
		s.p50 = percentile(latencies, 50)
		s.p95 = percentile(latencies, 95)
		s.p99 = percentile(latencies, 99)
		s.max = latencies[len(latencies)-1]
	}
	return s
}

// errorTally counts failed requests by kind ("HTTP 500 at token", "dial
// tcp: ...") and keeps one sample body per kind, so that every error is
// reported and none is hidden behind a bare count.
type errorTally struct {
	counts  map[string]int
	samples map[string]string
}

func newErrorTally() *errorTally {
	return &errorTally{counts: map[string]int{}, samples: map[string]string{}}
}

func (t *errorTally) add(kind, sample string) {
	t.counts[kind]++
	if _, ok := t.samples[kind]; !ok {
		t.samples[kind] = truncateText(sample, 160)
	}
}

func (t *errorTally) merge(o *errorTally) {
	for k, n := range o.counts {
		t.counts[k] += n
		if _, ok := t.samples[k]; !ok {
			t.samples[k] = o.samples[k]
		}
	}
}

func (t *errorTally) total() int {
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

// lines describes the errors, most frequent first.
func (t *errorTally) lines() []string {
	kinds := make([]string, 0, len(t.counts))
	for k := range t.counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if t.counts[kinds[i]] != t.counts[kinds[j]] {
			return t.counts[kinds[i]] > t.counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		line := fmt.Sprintf("%d × %s", t.counts[k], k)
		if s := t.samples[k]; s != "" {
			line += ": " + s
		}
		out = append(out, line)
	}
	return out
}

// truncateText shortens s to n runes on one line.
func truncateText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
