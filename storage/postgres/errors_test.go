package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/herald-idp/herald/storage"
)

func TestMapErr(t *testing.T) {
	pgErr := func(code string) error {
		return fmt.Errorf("exec: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "msg",
			Detail: "Key (tenant_id, code_hash)=(acme, secret-hash) already exists."})
	}
	tests := []struct {
		name string
		err  error
		want error // nil: none of the sentinels
	}{
		{"no rows", pgx.ErrNoRows, storage.ErrNotFound},
		{"unique violation", pgErr("23505"), storage.ErrAlreadyExists},
		{"foreign key violation", pgErr("23503"), storage.ErrNotFound},
		{"admin shutdown", pgErr("57P01"), storage.ErrUnavailable},
		{"cannot connect now", pgErr("57P03"), storage.ErrUnavailable},
		{"too many connections", pgErr("53300"), storage.ErrUnavailable},
		{"connection exception class", pgErr("08006"), storage.ErrUnavailable},
		{"read-only standby", pgErr("25006"), storage.ErrUnavailable},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), storage.ErrUnavailable},
		{"broken connection", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), storage.ErrUnavailable},
		{"syntax error", pgErr("42601"), nil},
		{"check violation", pgErr("23514"), nil},
		{"caller cancelled", context.Canceled, nil},
	}
	sentinels := []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrUnavailable, storage.ErrAlreadyUsed}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err, "tenant \"acme\": authorization code")
			for _, s := range sentinels {
				if want := s == tc.want; errors.Is(got, s) != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", got, s, !want, want)
				}
			}
			if !errors.Is(got, tc.err) && !errors.Is(got, storage.ErrNotFound) && !errors.Is(got, storage.ErrAlreadyExists) {
				t.Errorf("mapErr lost the cause: %v", got)
			}
			if strings.Contains(got.Error(), "secret-hash") {
				t.Errorf("error text reveals the key detail: %v", got)
			}
		})
	}
	if mapErr(nil, "x") != nil {
		t.Error("mapErr(nil) != nil")
	}
}
