package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tail := " S 1 1 1 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 8 0 100 1000000 5000 18446744073709551615"
	tests := []struct {
		name    string
		data    string
		want    cpuTicks
		wantErr string
	}{
		{"plain", "4242 (herald)" + tail, cpuTicks{1234, 567}, ""},
		{"spaces and parens in comm", "4242 (my (odd) name)" + tail, cpuTicks{1234, 567}, ""},
		{"no comm", "4242 herald S 1", cpuTicks{}, "no command name"},
		{"truncated", "4242 (herald) S 1 1 1", cpuTicks{}, "fields"},
		{"not a number", "4242 (herald) S 1 1 1 0 -1 4194560 2000 0 0 0 x 567 0", cpuTicks{}, "utime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if d := cpuDuration(cpuTicks{1234, 567}.total()); d != 18010*time.Millisecond {
		t.Errorf("cpuDuration = %v, want 18.01s (100 ticks per second)", d)
	}
}

func TestParseProcStatus(t *testing.T) {
	const status = "Name:\therald\nVmPeak:\t 1300000 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   20480 kB\nThreads:\t8\n"
	m, err := parseProcStatus([]byte(status))
	if err != nil || m.rssKiB != 20480 || m.hwmKiB != 65536 {
		t.Fatalf("got %+v, %v", m, err)
	}
	if mib(m.rssKiB) != 20 {
		t.Errorf("mib = %v, want 20", mib(m.rssKiB))
	}
	for _, bad := range []string{"Name:\therald\n", "VmRSS:\t 12 MB\nVmHWM:\t 1 kB\n", "VmRSS:\t x kB\nVmHWM:\t 1 kB\n"} {
		if _, err := parseProcStatus([]byte(bad)); err == nil {
			t.Errorf("parseProcStatus(%q) succeeded", bad)
		}
	}
}

func TestParseMachineBusyAndOtherTicks(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	busy, err := parseMachineBusy([]byte("cpu  100 2 30 5000 7 1 4 6 0 0\ncpu0 50 1 15 2500 3 0 2 3 0 0\n"))
	if err != nil || busy != 100+2+30+1+4+6 {
		t.Fatalf("busy = %d, %v; want 143", busy, err)
	}
	if _, err := parseMachineBusy([]byte("intr 1 2 3\n")); err == nil {
		t.Error("no cpu line: want an error")
	}
	a := cpuSnapshot{machine: 1000, server: cpuTicks{10, 5}, driver: cpuTicks{20, 0}}
	b := cpuSnapshot{machine: 1200, server: cpuTicks{70, 15}, driver: cpuTicks{80, 0}}
	if got := otherTicks(a, b); got != 200-70-60 {
		t.Errorf("otherTicks = %d, want 70", got)
	}
	b.machine = 1100 // sampled slightly apart: never negative
	if got := otherTicks(a, b); got != 0 {
		t.Errorf("otherTicks = %d, want 0", got)
	}
}

func TestParseMachineInfo(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := parseCPUModel([]byte(cpuinfo)); got != "AMD EPYC 7B13" {
		t.Errorf("model = %q", got)
	}
	if got := parseCPUModel([]byte("processor: 0\n")); got != "unknown" {
		t.Errorf("model = %q, want unknown", got)
	}
	if got := parseMemTotal([]byte("MemTotal:       24683616 kB\nMemFree: 1 kB\n")); got != 24105 {
		t.Errorf("MemTotal = %d MiB, want 24105", got)
	}
}
