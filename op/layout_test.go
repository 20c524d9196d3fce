package op_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/herald-idp/herald"

// TestImportDirection guards the layout: imports point one way (cmd → op →
// {storage, keys, templates}); only op/... speaks zitadel/oidc; only cmd
// names a concrete storage backend; storage, keys and templates know nothing
// of HTTP. A forbidden edge fails here instead of in review.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	type rule struct {
		pkgPrefix  string
		transitive bool
		forbidden  []string // import paths and everything under them
		exact      []string // these import paths only (not their subpackages)
	}
	rules := []rule{
		{module + "/storage", true, []string{"net/http", "github.com/zitadel/", module + "/op"}, nil},
		{module + "/keys", true, []string{"net/http", "github.com/zitadel/", module + "/op"}, nil},
		{module + "/templates", false, []string{module + "/"}, nil},
		// Test support shared by op's and cmd's tests, and telemetry
		// (metrics and spans, called by op, storage/observed and cmd):
		// imports nothing of ours.
		{module + "/internal", false, []string{module + "/"}, nil},
		{module + "/op/registry", true, []string{"net/http", "github.com/zitadel/"}, nil},
		// The second factor's pure logic: no HTTP, no storage.
		{module + "/op/mfa", true, []string{"net/http", "github.com/zitadel/", module + "/storage", module + "/keys"}, nil},
		{module + "/op/password", true, []string{"net/http", "github.com/zitadel/", module + "/storage"}, nil},
		{module + "/op/admin", true, []string{"github.com/zitadel/", module + "/storage/"}, nil},
		// The browser flow reaches the provider only through its own
		// Provider interface (op/loginflow.go adapts), and storage only
		// through the contract.
		{module + "/op/login", true, []string{module + "/storage/", module + "/cmd", module + "/op/admin"},
			[]string{module + "/op"}},
		// Upstream sign-in is a relying party only: no pages, no backends.
		{module + "/op/upstream", true, []string{module + "/storage/", module + "/cmd", module + "/op/admin",
			module + "/op/login", module + "/templates", module + "/keys"}, []string{module + "/op"}},
		{module + "/op", false, []string{module + "/storage/", module + "/cmd"}, nil},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			continue
		}
		pkg, imports, deps := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		// Backends may import their drivers; the storage contract may not.
		backend := strings.HasPrefix(pkg, module+"/storage/")
		for _, r := range rules {
			if pkg != r.pkgPrefix && !strings.HasPrefix(pkg, r.pkgPrefix+"/") {
				continue
			}
			if backend && r.pkgPrefix == module+"/storage" {
				continue
			}
			list := imports
			if r.transitive {
				list = deps
			}
			checked++
			for _, imp := range list {
				for _, f := range r.forbidden {
					if imp == f || strings.HasPrefix(imp, f) {
						t.Errorf("%s imports %s (forbidden)", pkg, imp)
					}
				}
				for _, f := range r.exact {
					if imp == f {
						t.Errorf("%s imports %s (forbidden)", pkg, imp)
					}
				}
			}
		}
		if !strings.HasPrefix(pkg, module+"/op") {
			for _, imp := range imports {
				if strings.HasPrefix(imp, "github.com/zitadel/") {
					t.Errorf("%s imports %s: only op/... may use zitadel/oidc", pkg, imp)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d packages matched the rules; the module layout changed?", checked)
	}
}
