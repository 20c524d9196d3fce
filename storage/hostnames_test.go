package storage_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/herald-idp/herald/storage"
)

func TestNormalizeHostnames(t *testing.T) {
	tests := []struct {
		in, want []string
		ok       bool
	}{
		{nil, nil, true},
		{[]string{"b.example", "a.example", "b.example"}, []string{"a.example", "b.example"}, true},
		{[]string{"localhost", "xn--bcher-kva.example", "10.0.0.1"}, []string{"10.0.0.1", "localhost", "xn--bcher-kva.example"}, true},
		{[]string{"A.example"}, nil, false},
		{[]string{"a.example:443"}, nil, false},
		{[]string{"a.example."}, nil, false},
		{[]string{"-a.example"}, nil, false},
		{[]string{""}, nil, false},
		{[]string{"[::1]"}, nil, false},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		got, err := storage.NormalizeHostnames(in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("NormalizeHostnames(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("NormalizeHostnames modified its input: %q", in)
		}
	}
}

func TestErrHostnameTakenIsAlreadyExists(t *testing.T) {
	if !errors.Is(storage.ErrHostnameTaken, storage.ErrAlreadyExists) {
		t.Fatal("ErrHostnameTaken does not match ErrAlreadyExists")
	}
}

func TestAuditLimit(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-1, storage.DefaultAuditLimit}, {0, storage.DefaultAuditLimit}, {1, 1},
		{storage.MaxAuditLimit, storage.MaxAuditLimit}, {storage.MaxAuditLimit + 1, storage.MaxAuditLimit},
	} {
		if got := storage.AuditLimit(tc.in); got != tc.want {
			t.Errorf("AuditLimit(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
