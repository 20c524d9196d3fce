package op

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/herald-idp/herald/storage"
)

func TestDownDependencies(t *testing.T) {
	pg := &storage.DependencyError{Name: "postgres", Err: storage.ErrUnavailable}
	redis := &storage.DependencyError{Name: "redis", Err: storage.ErrUnavailable}
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"plain error names nothing", errors.New("boom"), nil},
		{"one dependency", pg, []string{"postgres"}},
		{"wrapped dependency", fmt.Errorf("ping: %w", redis), []string{"redis"}},
		{"both down, joined", errors.Join(pg, redis), []string{"postgres", "redis"}},
		{"one of two down", errors.Join(nil, redis), []string{"redis"}},
		{"joined plain errors", errors.Join(errors.New("a"), errors.New("b")), nil},
		{"nested joins", errors.Join(errors.Join(pg), fmt.Errorf("x: %w", redis)), []string{"postgres", "redis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := downDependencies(tc.err); !slices.Equal(got, tc.want) {
				t.Errorf("downDependencies = %q, want %q", got, tc.want)
			}
		})
	}
}
