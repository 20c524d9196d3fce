package main

import (
	"math"
	"strings"
	"testing"
)

const goBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/herald-idp/herald/op
cpu: AMD EPYC 7B13
BenchmarkDiscoveryTenants/tenants=1-2         	  300000	      8000 ns/op	  9000 cpu-ns/op	    4096 B/op	      40 allocs/op
BenchmarkDiscoveryTenants/tenants=10000-2     	  290000	      8400 ns/op	  9900 cpu-ns/op	    4100 B/op	      40 allocs/op
BenchmarkClientCredentialsTenants/tenants=1-2 	    2000	   1000000 ns/op
BenchmarkClientCredentialsTenants/tenants=10000-2	    2000	   1100000 ns/op
BenchmarkOther-2   	 100	 5 ns/op
PASS
ok  	github.com/herald-idp/herald/op	25.1s
`

func TestParseGoBench(t *testing.T) {
	res, err := parseGoBench(strings.NewReader(goBenchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Fatalf("parsed %d results, want 5: %+v", len(res), res)
	}
	first := res[0]
	if first.name != "BenchmarkDiscoveryTenants/tenants=1" || first.iterations != 300000 || first.nsPerOp != 8000 ||
		first.cpuNsPerOp != 9000 || first.bytesPerOp != 4096 || first.allocsPerOp != 40 {
		t.Errorf("first = %+v", first)
	}
	if res[2].allocsPerOp != -1 || res[2].bytesPerOp != -1 || res[2].cpuNsPerOp != -1 {
		t.Errorf("without -benchmem the memory columns must be unknown: %+v", res[2])
	}
}

func TestTenantRatios(t *testing.T) {
	res, _ := parseGoBench(strings.NewReader(goBenchOutput))
	ratios := tenantRatios(res)
	if len(ratios) != 2 {
		t.Fatalf("got %d ratios, want 2: %+v", len(ratios), ratios)
	}
	want := map[string]float64{
		"BenchmarkClientCredentialsTenants": 1000000.0 / 1100000.0,
		"BenchmarkDiscoveryTenants":         9000.0 / 9900.0, // by CPU time when reported
	}
	for _, r := range ratios {
		if r.benchmark == "BenchmarkDiscoveryTenants" && (!r.byCPU || math.Abs(r.wallRt-8000.0/8400.0) > 1e-9) {
			t.Errorf("discovery: byCPU %v, wall ratio %v", r.byCPU, r.wallRt)
		}
		if math.Abs(r.throughputRt-want[r.benchmark]) > 1e-9 || r.manyTenants != "10000" {
			t.Errorf("%s: ratio %v (N=%s), want %v (N=10000)", r.benchmark, r.throughputRt, r.manyTenants, want[r.benchmark])
		}
	}
	// -count 3: the fastest run of each side is compared.
	counted, _ := parseGoBench(strings.NewReader(`BenchmarkX/tenants=1-2 10 100 ns/op
BenchmarkX/tenants=1-2 10 300 ns/op
BenchmarkX/tenants=1-2 10 200 ns/op
BenchmarkX/tenants=500-2 10 250 ns/op
BenchmarkX/tenants=500-2 10 150 ns/op
BenchmarkX/tenants=500-2 10 900 ns/op
`))
	if r := tenantRatios(counted); len(r) != 1 || r[0].throughputRt != 100.0/150.0 || r[0].runs != 3 || r[0].manyTenants != "500" {
		t.Errorf("ratios = %+v, want fastest against fastest, 100/150 over 3 runs", r)
	}
	if got := tenantRatios(res[:1]); len(got) != 0 {
		t.Errorf("a lone tenants=1 result must give no ratio: %+v", got)
	}
}
