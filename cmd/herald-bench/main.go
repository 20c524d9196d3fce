package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the driver's flags.
type options struct {
	warmup, duration time.Duration
	rounds           int           // measured rounds of the repeatable workloads
	loginDuration    time.Duration // W5's window: logins are slow, so it needs more
	concurrency      int
	maxRequests      int64
	stormConcurrency int
	stormDuration    time.Duration
	only             []string // workload IDs to run, in run order
	backends         []string
	out              string
	tenantBench      string // `go test -bench Tenants` output to read
	pprofAddr        string // HERALD_PPROF_ADDR for the server
	profileLogin     bool   // profile the server during W5, W3-RS256, W4 (own cost without hash or signatures)
	postgresAdminURL string
	redisURL         string
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./cmd/herald-bench [flags]   (run from the repository root)\n\n"+
			"Builds ./cmd/herald, seeds it with the CLI, runs `herald serve` on each backend, drives the\n"+
			"workloads W1-W7 and a login storm against it, and rewrites the generated part of --out.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var only, backends string
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured `time` per round of a workload")
	fs.IntVar(&o.rounds, "rounds", 3, "measured `rounds` of each workload but W5 and the storms; the least CPU per request is reported")
	fs.DurationVar(&o.loginDuration, "login-duration", 10*time.Second, "measured `time` of W5 (a login takes ~100 ms of CPU, so 5 s hold few)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up `time` before each measurement (results discarded)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent `workers` (keep-alive connections) per workload")
	fs.Int64Var(&o.maxRequests, "max-requests", 2_000_000, "end a measurement early after this many `requests`")
	fs.IntVar(&o.stormConcurrency, "storm-concurrency", 200, "concurrent logins of the login storm")
	fs.DurationVar(&o.stormDuration, "storm-duration", 4*time.Second, "`time` the login storm starts new logins")
	fs.StringVar(&only, "only", "", "comma-separated `workloads` to run: W1..W7 (W3, W6 and W7 cover their variants), W3-ES256, storm, ... (default all)")
	fs.StringVar(&backends, "backends", "sqlite,postgres", "comma-separated `backends`: sqlite, postgres (PostgreSQL + Redis)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "Markdown `file` whose generated section is rewritten")
	fs.StringVar(&o.tenantBench, "tenant-bench", "", "`file` with the output of go test -bench Tenants ./op/ (make bench writes it)")
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "loopback `address` for the server's pprof listener (sets HERALD_PPROF_ADDR)")
	fs.BoolVar(&o.profileLogin, "profile-login", true, "profile the server during W5, W3-RS256 and W4 through its pprof listener, to split its CPU into the limiting operation (password hashing, RSA signing) and the rest")
	fs.StringVar(&o.postgresAdminURL, "postgres-admin-url", defaultPostgresAdminURL, "`URL` of a database from which herald_bench_* databases are created")
	fs.StringVar(&o.redisURL, "redis-url", defaultRedisURL, "Redis `URL` for the postgres backend")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var errs []error
	if o.duration <= 0 || o.loginDuration <= 0 || o.warmup < 0 || o.stormDuration <= 0 {
		errs = append(errs, errors.New("--duration, --login-duration and --storm-duration must be positive, --warmup not negative"))
	}
	if o.rounds < 1 || o.rounds > 20 {
		errs = append(errs, errors.New("--rounds must be 1-20"))
	}
	if o.concurrency < 1 || o.concurrency > 1000 || o.stormConcurrency < 1 || o.stormConcurrency > 2000 {
		errs = append(errs, errors.New("--concurrency must be 1-1000 and --storm-concurrency 1-2000"))
	}
	var err error
	if o.only, err = selectWorkloads(only); err != nil {
		errs = append(errs, err)
	}
	for _, b := range splitList(backends) {
		if b != backendSQLite && b != backendPostgres {
			errs = append(errs, fmt.Errorf("--backends: unknown backend %q (want sqlite, postgres)", b))
		} else if !slices.Contains(o.backends, b) {
			o.backends = append(o.backends, b)
		}
	}
	if len(o.backends) == 0 {
		errs = append(errs, errors.New("--backends: name at least one backend"))
	}
	return o, errors.Join(errs...)
}

// selectWorkloads expands --only: "W3" selects every W3 variant; an empty
// list selects everything. The result is in run order.
func selectWorkloads(list string) ([]string, error) {
	names := splitList(list)
	if len(names) == 0 {
		return slices.Clone(allWorkloads), nil
	}
	var out []string
	for _, n := range names {
		matched := false
		for _, id := range allWorkloads {
			if strings.EqualFold(id, n) || strings.HasPrefix(strings.ToLower(id), strings.ToLower(n)+"-") {
				matched = true
				if !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
		if !matched {
			return nil, fmt.Errorf("--only: unknown workload %q (known: %s)", n, strings.Join(allWorkloads, ", "))
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return slices.Index(allWorkloads, a) - slices.Index(allWorkloads, b)
	})
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench: %v\n", err)
		return 2
	}
	rep, err := runBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench: %v\n", err)
		return 1
	}
	if err := writeReport(o.out, rep); err != nil {
		fmt.Fprintf(stderr, "herald-bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", o.out)
	if n := totalErrors(rep); n > 0 {
		fmt.Fprintf(stderr, "herald-bench: %d failed requests or workloads; see %s\n", n, o.out)
		return 1
	}
	return 0
}

// totalErrors counts failed requests (storm refusals excepted: they are
// the expected answer) and workloads that could not run.
func totalErrors(r *report) int {
	n := 0
	for _, b := range r.backends {
		n += len(b.failures)
		for _, row := range b.rows {
			n += row.res.errors.total()
		}
		if b.storm != nil {
			n += b.storm.otherErrors()
		}
	}
	return n
}

func writeReport(path string, r *report) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc, err := replaceGenerated(string(old), renderMarkdown(r))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
