package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The tenant-scaling benchmarks of issue 4 (op/bench_test.go) run under
// `go test -bench`; `make bench` saves their output and the driver reads it
// (--tenant-bench FILE) to put the throughput ratio tenants=10000 /
// tenants=1 in the report.

// goBenchResult is one line of `go test -bench` output.
type goBenchResult struct {
	name        string // without the -GOMAXPROCS suffix
	iterations  int64
	nsPerOp     float64
	bytesPerOp  float64 // -1 when not reported
	allocsPerOp float64 // -1 when not reported
	cpuNsPerOp  float64 // custom cpu-ns/op metric; -1 when not reported
}

// cost is what the ratio compares: CPU time per request when the
// benchmark reports it (other processes on a shared machine stretch wall
// time, not CPU time), else wall time.
func (r goBenchResult) cost() float64 {
	if r.cpuNsPerOp > 0 {
		return r.cpuNsPerOp
	}
	return r.nsPerOp
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(.*)$`)

// parseGoBench reads every benchmark result line of r.
func parseGoBench(r io.Reader) ([]goBenchResult, error) {
	var out []goBenchResult
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		res := goBenchResult{name: m[1], bytesPerOp: -1, allocsPerOp: -1, cpuNsPerOp: -1}
		var err error
		if res.iterations, err = strconv.ParseInt(m[2], 10, 64); err != nil {
			return nil, fmt.Errorf("%s: iterations: %w", m[1], err)
		}
		if res.nsPerOp, err = strconv.ParseFloat(m[3], 64); err != nil {
			return nil, fmt.Errorf("%s: ns/op: %w", m[1], err)
		}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "B/op":
				res.bytesPerOp = v
			case "allocs/op":
				res.allocsPerOp = v
			case "cpu-ns/op":
				res.cpuNsPerOp = v
			}
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// tenantScaling compares one benchmark at tenants=1 and tenants=10000.
type tenantScaling struct {
	benchmark    string // e.g. BenchmarkDiscoveryTenants
	one, many    goBenchResult
	manyTenants  string  // "10000"
	runs         int     // runs per side (go test -count)
	throughputRt float64 // cost(1) / cost(many)
	wallRt       float64 // ns/op(1) / ns/op(many)
	byCPU        bool    // throughputRt compares CPU time
}

// tenantRatios pairs every Benchmark*/tenants=1 with the same benchmark at
// the largest other tenant count and returns throughput(many)/throughput(1),
// i.e. cost(1) / cost(many). With -count > 1 each side is its fastest run:
// on a shared machine the fastest run is the one least disturbed by other
// processes, so fastest against fastest compares the code, not the noise.
func tenantRatios(results []goBenchResult) []tenantScaling {
	runs := map[string]map[int][]goBenchResult{} // benchmark → tenants → runs
	for _, r := range results {
		base, sub, ok := strings.Cut(r.name, "/tenants=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(sub)
		if err != nil {
			continue
		}
		if runs[base] == nil {
			runs[base] = map[int][]goBenchResult{}
		}
		runs[base][n] = append(runs[base][n], r)
	}
	var out []tenantScaling
	for base, byCount := range runs {
		counts := make([]int, 0, len(byCount))
		for n := range byCount {
			counts = append(counts, n)
		}
		sort.Ints(counts)
		if counts[0] != 1 || len(counts) < 2 {
			continue
		}
		last := counts[len(counts)-1]
		one, many := fastestRun(byCount[1]), fastestRun(byCount[last])
		if many.nsPerOp == 0 || many.cost() == 0 {
			continue
		}
		out = append(out, tenantScaling{
			benchmark: base, one: one, many: many, manyTenants: strconv.Itoa(last), runs: len(byCount[1]),
			throughputRt: one.cost() / many.cost(), wallRt: one.nsPerOp / many.nsPerOp,
			byCPU: one.cpuNsPerOp > 0 && many.cpuNsPerOp > 0,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].benchmark < out[j].benchmark })
	return out
}

// fastestRun is the run with the lowest cost.
func fastestRun(runs []goBenchResult) goBenchResult {
	return slices.MinFunc(runs, func(a, b goBenchResult) int { return cmp.Compare(a.cost(), b.cost()) })
}
