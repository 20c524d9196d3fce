package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/herald-idp/herald/op/registry"
	"github.com/herald-idp/herald/storage"
)

// printError renders the registry's typed errors from their fields: the
// record by name, a taken value and an invalid field by their flag.
func TestPrintErrorNamesRecordAndFlag(t *testing.T) {
	acme := storage.Record{Kind: storage.KindTenant, ID: "acme"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"not found", &storage.NotFoundError{Record: storage.Record{Kind: storage.KindClient, Tenant: "acme", ID: "web"}},
			"herald: client \"web\" in tenant \"acme\" not found\n"},
		{"conflict", &storage.ConflictError{Record: acme}, "herald: tenant \"acme\" already exists\n"},
		{"taken hostname", &storage.ConflictError{Record: acme, Field: "hostnames", Message: `hostname "a.test" is claimed by tenant "beta"`, Err: storage.ErrHostnameTaken},
			"herald: --hostname: hostname \"a.test\" is claimed by tenant \"beta\"\n"},
		{"invalid fields", errors.Join(&registry.ValidationError{Field: "redirect_uris", Message: "must be https"},
			&registry.ValidationError{Field: "hostnames", Message: "too many"}),
			"herald: --redirect-uri: must be https\nherald: --hostname: too many\n"},
		{"other", fmt.Errorf("open store: %w", errors.New("no such file")), "herald: open store: no such file\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			printError(&buf, tc.err)
			if buf.String() != tc.want {
				t.Errorf("printed %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

// An unknown username is reported like any missing record.
func TestUnknownUsernameNamesTheUser(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	r := herald(t, "", "user", "get", "--tenant", "acme", "--username", "Nobody")
	if want := `herald: user "nobody" in tenant "acme" not found`; r.code != 1 || !bytes.Contains([]byte(r.stderr), []byte(want)) {
		t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
}
