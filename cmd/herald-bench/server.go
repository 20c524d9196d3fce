package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// This file runs Herald the way an operator does: the binary built from
// ./cmd/herald, data seeded with its CLI, `herald serve` as a child process
// configured through HERALD_* variables.

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 25 * time.Second // serve drains for up to 20 s
	cliTimeout   = 2 * time.Minute
)

// buildHerald compiles ./cmd/herald into dir.
func buildHerald(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "herald")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/herald")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/herald: %w", err)
	}
	return bin, nil
}

// heraldEnv is the environment of every herald command of one backend: the
// driver's own, minus any HERALD_* setting the driver decides, plus those.
// HERALD_ARGON2_* and HERALD_HASH_* pass through, so the server and the
// limit measurements use the same parameters.
func heraldEnv(settings map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := settings[k]; !overridden {
			env = append(env, kv)
		}
	}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	return env
}

// runCLI runs `herald args...` with stdin and returns its stdout. A failure
// quotes stderr, which never contains secrets (Herald's rule).
func runCLI(ctx context.Context, bin string, env []string, stdin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("herald %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, strings.TrimSpace(lastLines(stderr.String(), 5)))
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeLoopbackAddr returns 127.0.0.1:PORT for a port free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// randomKEK is a fresh key-encryption key for one run's signing keys.
func randomKEK() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// heraldServer is a running `herald serve`.
type heraldServer struct {
	cmd     *exec.Cmd
	proc    proc
	baseURL string
	addr    string
	logs    *logTail
	exited  chan struct{}
	waitErr error
}

// startServer starts `herald serve` and waits for its
// {"status":"listening"} line on stdout.
func startServer(ctx context.Context, bin string, env []string, addr string, args ...string) (*heraldServer, error) {
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logs := &logTail{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start herald serve: %w", err)
	}
	s := &heraldServer{cmd: cmd, proc: proc{pid: cmd.Process.Pid}, baseURL: "http://" + addr, addr: addr, logs: logs, exited: make(chan struct{})}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			var line struct{ Status string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Status == "listening" && !signalled {
				close(listening)
				signalled = true
			}
		}
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-listening:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("herald serve exited: %v: %s", s.waitErr, lastLines(logs.String(), 5))
	case <-time.After(startTimeout):
	case <-ctx.Done():
	}
	s.stop()
	return nil, fmt.Errorf("herald serve did not start within %s: %s", startTimeout, lastLines(logs.String(), 5))
}

// stop sends SIGTERM (graceful shutdown), then SIGKILL after stopTimeout.
func (s *heraldServer) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("herald serve did not stop on SIGTERM; killed")
	}
	var ee *exec.ExitError
	if s.waitErr != nil && !errors.As(s.waitErr, &ee) {
		return s.waitErr
	}
	if ee != nil {
		return fmt.Errorf("herald serve exited with %v: %s", ee, lastLines(s.logs.String(), 3))
	}
	return nil
}

// logTail keeps the server's stderr (JSON logs at warn level): its size,
// the number of lines per level and the last lines, for the report.
type logTail struct {
	mu      sync.Mutex
	partial []byte
	levels  map[string]int
	msgs    map[string]int // level + ": " + msg → count
	tail    []string
}

const logTailLines = 20

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.levels == nil {
		l.levels, l.msgs = map[string]int{}, map[string]int{}
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		var rec struct{ Level, Msg, Op, Error string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			rec.Level, rec.Msg = "TEXT", truncateText(line, 100)
		}
		l.levels[rec.Level]++
		key := rec.Level + ": " + rec.Msg
		if rec.Op != "" || rec.Error != "" {
			// Which operation failed and how, so that a count of "internal
			// error" says where to look.
			key += " (" + rec.Op + ": " + truncateText(rec.Error, 80) + ")"
		}
		l.msgs[key]++
		l.tail = append(l.tail, line)
		if len(l.tail) > logTailLines {
			l.tail = l.tail[1:]
		}
	}
	if len(l.partial) > 64<<10 {
		l.partial = l.partial[:0] // a runaway line: drop it
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.tail, "\n")
}

// messages returns "count × LEVEL: msg" for every distinct log message.
func (l *logTail) messages() *errorTally {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := newErrorTally()
	for m, n := range l.msgs {
		t.counts[m] = n
	}
	return t
}

var _ io.Writer = (*logTail)(nil)
