package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// requestFunc makes one request (or one login) of a workload.
type requestFunc func(ctx context.Context) outcome

// loadSpec is one workload run: fixed concurrency, a warm-up whose results
// are discarded, then a measured window of fixed duration. The run is
// bounded in time (window + grace) and in count (maxRequests ends the
// window early).
type loadSpec struct {
	id, name    string
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	maxRequests int64
	// recordTail also records requests that finish after the window
	// (the storm: a login refused after waiting for a hashing slot
	// answers seconds later); elapsed then runs until the last one ends.
	recordTail bool
	// duringWindow, if set, runs alongside the measured window (e.g. takes
	// a CPU profile of the server); runLoad waits for it.
	duringWindow func(ctx context.Context, window time.Duration)
	// newWorker prepares worker i (e.g. logs in for its first refresh
	// token) and returns its request function.
	newWorker func(ctx context.Context, i int) (requestFunc, error)
}

// loadResult is what was measured in the window.
type loadResult struct {
	id, name    string
	concurrency int
	elapsed     time.Duration
	ok, refused int
	errors      *errorTally
	latency     latencySummary // of successful requests
	serverCPU   time.Duration  // utime+stime of Herald during the window
	driverCPU   time.Duration  // the driver's own CPU during the window
	otherCPU    time.Duration  // CPU of every other process during the window
	memEnd      memStatus      // at the end of the window, still under load
}

// otherCores is the average number of cores other processes used during
// the window: load the run did not cause, which slows it down.
func (r *loadResult) otherCores() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return r.otherCPU.Seconds() / r.elapsed.Seconds()
}

// completed is every request that finished in the window.
func (r *loadResult) completed() int { return r.ok + r.errors.total() }

func (r *loadResult) perSecond() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// cpuMsPerOp is Herald's CPU per completed request, in milliseconds.
func (r *loadResult) cpuMsPerOp() float64 {
	if r.completed() == 0 {
		return 0
	}
	return float64(r.serverCPU) / float64(time.Millisecond) / float64(r.completed())
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// workerStats is one worker's share of the window; merged at the end, so
// the hot loop takes no lock.
type workerStats struct {
	latencies   []time.Duration
	ok, refused int
	errors      *errorTally
}

// runLoad runs spec against the Herald process server.
func runLoad(ctx context.Context, spec loadSpec, server proc) (*loadResult, error) {
	if spec.concurrency < 1 {
		return nil, errors.New("concurrency must be at least 1")
	}
	workers := make([]requestFunc, spec.concurrency)
	for i := range workers {
		fn, err := spec.newWorker(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("%s: prepare worker %d: %w", spec.id, i, err)
		}
		workers[i] = fn
	}
	// Requests still running when the window ends finish within their
	// own timeout; the grace bounds the whole run regardless.
	ctx, cancel := context.WithTimeout(ctx, spec.warmup+spec.duration+requestTimeout+5*time.Second)
	defer cancel()

	var phase atomic.Int32
	var recorded atomic.Int64
	capReached := make(chan struct{})
	var capOnce sync.Once
	stats := make([]workerStats, spec.concurrency)
	var wg sync.WaitGroup
	for i, fn := range workers {
		st := &stats[i]
		st.errors = newErrorTally()
		wg.Go(func() {
			for phase.Load() != phaseStop && ctx.Err() == nil {
				start := time.Now()
				o := fn(ctx)
				elapsed := time.Since(start)
				if p := phase.Load(); p != phaseMeasure && (p != phaseStop || !spec.recordTail) {
					continue // warm-up, or finished after the window
				}
				switch {
				case o.ok:
					st.ok++
					st.latencies = append(st.latencies, elapsed)
				case o.refused:
					st.refused++
					st.errors.add(o.kind, o.sample)
				default:
					st.errors.add(o.kind, o.sample)
				}
				if recorded.Add(1) >= spec.maxRequests && spec.maxRequests > 0 {
					capOnce.Do(func() { close(capReached) })
				}
			}
		})
	}

	res := &loadResult{id: spec.id, name: spec.name, concurrency: spec.concurrency, errors: newErrorTally()}
	err := func() error {
		if !sleepCtx(ctx, spec.warmup) {
			return ctx.Err()
		}
		cpu0, err := takeSnapshot(server)
		if err != nil {
			return err
		}
		t0 := time.Now()
		phase.Store(phaseMeasure)
		if spec.duringWindow != nil {
			wg.Go(func() { spec.duringWindow(ctx, spec.duration) })
		}
		timer := time.NewTimer(spec.duration)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-capReached:
		case <-ctx.Done():
			return ctx.Err()
		}
		cpu1, err := takeSnapshot(server)
		if err != nil {
			return err
		}
		res.elapsed = time.Since(t0)
		phase.Store(phaseStop)
		res.serverCPU = cpuDuration(cpu1.server.total() - cpu0.server.total())
		res.driverCPU = cpuDuration(cpu1.driver.total() - cpu0.driver.total())
		res.otherCPU = cpuDuration(otherTicks(cpu0, cpu1))
		res.memEnd, err = server.mem()
		if spec.recordTail {
			wg.Wait()
			res.elapsed = time.Since(t0)
		}
		return err
	}()
	phase.Store(phaseStop)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.id, err)
	}

	var all []time.Duration
	for i := range stats {
		all = append(all, stats[i].latencies...)
		res.ok += stats[i].ok
		res.refused += stats[i].refused
		res.errors.merge(stats[i].errors)
	}
	res.latency = summarize(all)
	return res, nil
}

// sleepCtx sleeps for d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
