package observed

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-idp/herald/internal/telemetry"
	"github.com/herald-idp/herald/storage"
	"github.com/herald-idp/herald/storage/sqlite"
	"github.com/herald-idp/herald/storage/storagetest"
)

// TestContract runs the storage contract through the decorator: observing
// a store changes none of its answers.
func TestContract(t *testing.T) {
	tel := telemetry.New(telemetry.Options{Metrics: true})
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return Wrap(s, tel, "sqlite", "")
	})
}

// TestEveryMethodObserved fails when storage gained an accessor or a
// method (ctx first, error last) that observed_gen.go does not wrap yet:
// run `go generate ./storage/observed`.
func TestEveryMethodObserved(t *testing.T) {
	st := reflect.TypeFor[storage.Store]()
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	for i := range st.NumMethod() {
		a := st.Method(i)
		if a.Type.NumIn() != 0 || a.Type.NumOut() != 1 || a.Type.Out(0).Kind() != reflect.Interface {
			continue
		}
		sub := a.Type.Out(0)
		for j := range sub.NumMethod() {
			m := sub.Method(j)
			if m.Type.NumIn() == 0 || m.Type.In(0) != ctxType || m.Type.NumOut() == 0 || m.Type.Out(m.Type.NumOut()-1) != errType {
				continue
			}
			if !slices.Contains(operations, a.Name+"."+m.Name) {
				t.Errorf("%s.%s is not observed: run go generate ./storage/observed", a.Name, m.Name)
			}
		}
	}
}

// TestLatencyAndErrorsRecorded checks the series of one call: a not-found
// answer is timed but is no error, and operations never called export
// nothing.
func TestLatencyAndErrorsRecorded(t *testing.T) {
	tel := telemetry.New(telemetry.Options{Metrics: true})
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := Wrap(db, tel, "sqlite", "redis")
	if _, err := s.Tenants().Tenant(t.Context(), "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Tenant: %v", err)
	}
	if _, err := s.Sessions().Session(t.Context(), "nobody", "x", time.Now()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Session: %v", err)
	}
	check := func(want map[string]float64) {
		t.Helper()
		got := series(t, tel, "herald_storage_operation_errors_total")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("herald_storage_operation_errors_total = %v, want %v", got, want)
		}
	}
	check(map[string]float64{"redis Sessions.Session": 0, "sqlite Tenants.Tenant": 0})
	if n := len(series(t, tel, "herald_storage_operation_duration_seconds")); n != 2 {
		t.Errorf("%d duration series, want 2 (only the operations called)", n)
	}
	// A cancelled call is no backend failure either; a real failure counts.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _ = s.Tenants().Tenant(ctx, "nobody")
	db.Close()
	if _, err := s.Tenants().ListTenants(t.Context()); err == nil {
		t.Fatal("ListTenants on a closed database succeeded")
	}
	check(map[string]float64{"redis Sessions.Session": 0, "sqlite Tenants.Tenant": 0, "sqlite Tenants.ListTenants": 1})
}

// series maps "backend operation" to the value (counters) or sample count
// (histograms) of metric name.
func series(t *testing.T, tel *telemetry.Telemetry, name string) map[string]float64 {
	t.Helper()
	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			v := m.GetCounter().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[strings.Join(labels, " ")] = v
		}
	}
	return out
}
