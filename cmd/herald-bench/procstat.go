package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The server's cost is read from the kernel's accounting of the Herald
// process, not from the driver's view: the driver shares the same cores, so
// requests/s alone would not carry across machines (issue 5 §3).

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/PID/stat. The kernel reports these fields in USER_HZ, which is 100
// on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
const clockTicksPerSecond = 100

// cpuTicks is the CPU time a process has used, in clock ticks.
type cpuTicks struct {
	user, system uint64
}

func (c cpuTicks) total() uint64 { return c.user + c.system }

// cpuDuration converts a tick difference into a duration.
func cpuDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * time.Second / clockTicksPerSecond
}

// parseProcStat reads utime and stime (fields 14 and 15, proc(5)) from the
// contents of /proc/PID/stat. The command name (field 2) is in parentheses
// and may itself contain spaces and parentheses, so fields are counted from
// the last ')'.
func parseProcStat(data []byte) (cpuTicks, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return cpuTicks{}, errors.New("proc stat: no command name")
	}
	// After ")": field 3 (state) onwards.
	fields := strings.Fields(string(data[end+1:]))
	const utimeIdx, stimeIdx = 14 - 3, 15 - 3
	if len(fields) <= stimeIdx {
		return cpuTicks{}, fmt.Errorf("proc stat: %d fields after the command name, want at least %d", len(fields), stimeIdx+1)
	}
	user, err := strconv.ParseUint(fields[utimeIdx], 10, 64)
	if err != nil {
		return cpuTicks{}, fmt.Errorf("proc stat: utime: %w", err)
	}
	system, err := strconv.ParseUint(fields[stimeIdx], 10, 64)
	if err != nil {
		return cpuTicks{}, fmt.Errorf("proc stat: stime: %w", err)
	}
	return cpuTicks{user: user, system: system}, nil
}

// memStatus is what /proc/PID/status says about a process's memory, in
// KiB: the resident set now (VmRSS) and its peak since start (VmHWM).
type memStatus struct {
	rssKiB, hwmKiB uint64
}

// parseProcStatus reads VmRSS and VmHWM from the contents of
// /proc/PID/status ("VmRSS:\t   12345 kB").
func parseProcStatus(data []byte) (memStatus, error) {
	var m memStatus
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return memStatus{}, fmt.Errorf("proc status: %s: unexpected value %q", key, strings.TrimSpace(value))
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return memStatus{}, fmt.Errorf("proc status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.rssKiB, haveRSS = n, true
		} else {
			m.hwmKiB, haveHWM = n, true
		}
	}
	if !haveRSS || !haveHWM {
		return memStatus{}, errors.New("proc status: VmRSS or VmHWM missing")
	}
	return m, nil
}

// proc reads one process's accounting.
type proc struct{ pid int }

func (p proc) cpu() (cpuTicks, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return cpuTicks{}, err
	}
	return parseProcStat(data)
}

func (p proc) mem() (memStatus, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return memStatus{}, err
	}
	return parseProcStatus(data)
}

func mib(kib uint64) float64 { return float64(kib) / 1024 }

// machineInfo describes the machine for the report.
type machineInfo struct {
	CPUModel string
	Cores    int
	MemMiB   uint64
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo.
func parseCPUModel(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

// parseMemTotal returns MemTotal of /proc/meminfo in MiB (0 if absent).
func parseMemTotal(meminfo []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != "MemTotal" {
			continue
		}
		f := strings.Fields(value)
		if len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseUint(f[0], 10, 64); err == nil {
				return n / 1024
			}
		}
	}
	return 0
}

// parseMachineBusy returns the busy clock ticks of all CPUs from the "cpu"
// line of /proc/stat: user, nice, system, irq, softirq and steal (guest
// time is already part of user; idle and iowait are not busy).
func parseMachineBusy(data []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return 0, fmt.Errorf("proc stat: the cpu line has %d fields, want at least 9", len(f))
		}
		var busy uint64
		for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("proc stat: cpu field %d: %w", i, err)
			}
			busy += n
		}
		return busy, nil
	}
	return 0, errors.New("proc stat: no cpu line")
}

// cpuSnapshot is the machine's, the server's and the driver's CPU at one
// instant: the difference of two tells how much of the machine other
// processes took while a workload ran.
type cpuSnapshot struct {
	machine uint64
	server  cpuTicks
	driver  cpuTicks
}

func takeSnapshot(server proc) (cpuSnapshot, error) {
	var s cpuSnapshot
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	if s.machine, err = parseMachineBusy(data); err != nil {
		return s, err
	}
	if s.server, err = server.cpu(); err != nil {
		return s, err
	}
	s.driver, err = proc{pid: os.Getpid()}.cpu()
	return s, err
}

// otherTicks is the CPU used between a and b by processes other than the
// server and the driver (never negative: the counters are sampled at
// slightly different instants).
func otherTicks(a, b cpuSnapshot) uint64 {
	own := (b.server.total() - a.server.total()) + (b.driver.total() - a.driver.total())
	machine := b.machine - a.machine
	if own >= machine {
		return 0
	}
	return machine - own
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
