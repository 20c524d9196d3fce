package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/herald-idp/herald/storage"
)

// ErrNotMigrated is returned by Open when the database lacks the schema this
// build needs. Migrations are never applied implicitly: run `herald migrate`
// (Migrate) once per release, before or while the new replicas start.
var ErrNotMigrated = errors.New("postgres: database schema is not migrated; run `herald migrate`")

// PostgreSQL error codes (Appendix A of the PostgreSQL manual) that the
// storage sentinels are made of.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// unavailableCodes are server errors that say "not now" rather than "wrong
// request": a restart or failover in progress, a cancelled (timed out)
// statement, or a server out of connections or resources. They become
// storage.ErrUnavailable, which the HTTP layer answers with 503.
var unavailableCodes = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now (starting up, recovering)
	"57014": true, // query_canceled (statement_timeout, or our deadline)
	"53000": true, // insufficient_resources
	"53100": true, // disk_full
	"53200": true, // out_of_memory
	"53300": true, // too_many_connections
	"25006": true, // read_only_sql_transaction: connected to a standby after a failover
}

// mapErr turns driver errors into the storage sentinels. what names the
// record ("tenant \"acme\": client \"web\"") and must never contain a secret,
// a hash of one or a token ID. Only the server's error code and message are
// kept, never the statement's arguments (pgx does not put them in errors).
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && !isConnectError(err) {
		switch {
		case pe.Code == codeUniqueViolation:
			return fmt.Errorf("%s: %w", what, storage.ErrAlreadyExists)
		case pe.Code == codeForeignKeyViolation:
			// The only foreign keys point at tenants.
			return fmt.Errorf("%s: tenant: %w", what, storage.ErrNotFound)
		case pe.Code == "22021" || pe.Code == "22P05":
			// A key with a NUL byte or invalid UTF-8 (untrusted input such
			// as a client_id) cannot name any stored record.
			return fmt.Errorf("%s: invalid key: %w", what, storage.ErrNotFound)
		case unavailableCodes[pe.Code] || strings.HasPrefix(pe.Code, "08"): // class 08: connection exception
			return unavailable(what, err)
		}
		// PgError.Error() is severity, message and code; the Detail field,
		// which may quote key values (hashes of codes and tokens are keys),
		// stays out of the text.
		return fmt.Errorf("%s: %w", what, err)
	}
	if isConnectionFailure(err) {
		return unavailable(what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unavailable marks err as an unreachable or overloaded backend.
func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, storage.ErrUnavailable, err)
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// isConnectionFailure reports errors of the connection rather than of the
// statement: failing to connect, a connection that broke or timed out, our
// deadline (OpTimeout) passing, or a closed pool.
func isConnectionFailure(err error) bool {
	var netErr net.Error
	switch {
	case isConnectError(err),
		errors.Is(err, context.DeadlineExceeded),
		pgconn.Timeout(err),
		// The statement was never sent: the connection was closed or busy.
		pgconn.SafeToRetry(err),
		errors.As(err, &netErr),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}

// requireAffected returns ErrNotFound when a statement touched no row.
func requireAffected(tag pgconn.CommandTag, what string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return nil
}

// requireKeys rejects records whose key fields are empty: they are caller
// bugs, and storing them would make the row unreachable.
func requireKeys(what string, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("%s: tenant and id must not be empty", what)
		}
	}
	return nil
}
