package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestUserManage(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	created := mustJSON(t, "correct horse battery\n", "user", "create", "--tenant", "acme", "--username", "Alice",
		"--email", "alice@acme.test", "--name", "Alice Liddell", "--password-stdin",
		"--attribute", "tenant_id=t-42", "--attribute", `groups=["admins","dev"]`, "--attribute", "seats=10",
		"--attribute", `code="10"`)
	id, _ := created["id"].(string)
	wantAttrs := map[string]any{"tenant_id": "t-42", "groups": []any{"admins", "dev"}, "seats": float64(10), "code": "10"}
	requireKeys(t, "user create", created, map[string]any{"username": "alice", "tenant": "acme", "attributes": wantAttrs})
	requireAll(t, "user create", field("len(id)", len(id), 36))
	for _, k := range []string{"password", "password_hash"} {
		if _, has := created[k]; has {
			t.Fatalf("user create printed %s", k)
		}
	}

	// --id and --username name the same user.
	byID := mustJSON(t, "", "user", "get", "--tenant", "acme", "--id", id)
	byName := mustJSON(t, "", "user", "get", "--tenant", "acme", "--username", "ALICE")
	if !reflect.DeepEqual(byID, byName) || byID["email"] != "alice@acme.test" {
		t.Fatalf("get by ID %v\nget by username %v", byID, byName)
	}
	if list := mustJSON(t, "", "user", "list", "--tenant", "acme"); len(list["users"].([]any)) != 1 {
		t.Fatalf("user list: %v", list)
	}

	// Only the given flags change; --attribute replaces all attributes.
	upd := mustJSON(t, "", "user", "update", "--tenant", "acme", "--username", "alice",
		"--given-name", "Alice", "--attribute", "plan_level=gold", "--email-verified=true")
	requireKeys(t, "user update", upd, map[string]any{"given_name": "Alice", "name": "Alice Liddell",
		"email": "alice@acme.test", "email_verified": true, "attributes": map[string]any{"plan_level": "gold"}})
	// A new e-mail address is unverified unless said otherwise.
	upd = mustJSON(t, "", "user", "update", "--tenant", "acme", "--id", id, "--email", "alice@new.acme.test", "--clear-attributes")
	requireKeys(t, "user update e-mail", upd, map[string]any{"email": "alice@new.acme.test", "email_verified": false,
		"attributes": map[string]any{}})

	if d := mustJSON(t, "", "user", "disable", "--tenant", "acme", "--username", "alice"); d["disabled"] != true {
		t.Fatalf("user disable: %v", d)
	}
	if e := mustJSON(t, "", "user", "enable", "--tenant", "acme", "--id", id); e["disabled"] != false {
		t.Fatalf("user enable: %v", e)
	}
	set := mustJSON(t, "a brand new password\n", "user", "set-password", "--tenant", "acme", "--id", id, "--password-stdin")
	if set["id"] != id {
		t.Fatalf("set-password by ID: %v", set)
	}
	del := mustJSON(t, "", "user", "delete", "--tenant", "acme", "--username", "Alice")
	requireKeys(t, "user delete", del, map[string]any{"deleted": true, "id": id, "username": "alice"})
	if r := herald(t, "", "user", "get", "--tenant", "acme", "--username", "alice"); r.code != 1 ||
		!strings.Contains(r.stderr, `user "alice" in tenant "acme" not found`) {
		t.Fatalf("get after delete: exit %d, stderr %q", r.code, r.stderr)
	}

	// User changes are audited with the user's ID, never a password.
	events := mustJSON(t, "", "audit", "list", "--tenant", "acme", "--limit", "3")["events"].([]any)
	if len(events) != 3 {
		t.Fatalf("audit list --limit 3: %d events", len(events))
	}
	var actions []string
	for _, e := range events {
		ev := e.(map[string]any)
		actions = append(actions, ev["action"].(string))
		expectAll(t, "audit event "+ev["action"].(string), field("target_id", ev["target_id"], id), field("actor", ev["actor"], "cli"))
	}
	if want := []string{"user.delete", "user.set_password", "user.update"}; !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
}

func TestUserCommandErrors(t *testing.T) {
	testEnv(t)
	mustJSON(t, "", "tenant", "create", "--name", "acme")
	mustJSON(t, "correct horse battery\n", "user", "create", "--tenant", "acme", "--username", "alice", "--password-stdin")
	for _, tc := range []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantText string
	}{
		{"unknown tenant list", "", []string{"list", "--tenant", "nope"}, 1, `tenant "nope" not found`},
		{"unknown tenant get", "", []string{"get", "--tenant", "nope", "--username", "alice"}, 1, `tenant "nope" not found`},
		{"unknown tenant update", "", []string{"update", "--tenant", "nope", "--id", "x", "--name", "A"}, 1, `tenant "nope" not found`},
		{"unknown tenant disable", "", []string{"disable", "--tenant", "nope", "--username", "alice"}, 1, `tenant "nope" not found`},
		{"unknown tenant delete", "", []string{"delete", "--tenant", "nope", "--username", "alice"}, 1, `tenant "nope" not found`},
		{"unknown tenant set-password", "a long password here\n", []string{"set-password", "--tenant", "nope", "--username", "alice", "--password-stdin"}, 1, `tenant "nope" not found`},
		{"unknown user", "", []string{"get", "--tenant", "acme", "--username", "bob"}, 1, `user "bob" in tenant "acme" not found`},
		{"unknown user ID", "", []string{"enable", "--tenant", "acme", "--id", "nope"}, 1, `user "nope" in tenant "acme" not found`},
		{"bad email", "", []string{"update", "--tenant", "acme", "--username", "alice", "--email", "nope"}, 1, "--email"},
		{"bad attribute name", "", []string{"update", "--tenant", "acme", "--username", "alice", "--attribute", "bad key=1"}, 1, "--attribute"},
		{"control character", "", []string{"update", "--tenant", "acme", "--username", "alice", "--family-name", "a\x07b"}, 1, "--family-name"},
		{"short password", "short\n", []string{"set-password", "--tenant", "acme", "--username", "alice", "--password-stdin"}, 1, "--password-stdin"},
		{"empty stdin", "", []string{"set-password", "--tenant", "acme", "--username", "alice", "--password-stdin"}, 1, "standard input is empty"},
		{"neither id nor username", "", []string{"get", "--tenant", "acme"}, 2, "--id and --username"},
		{"both id and username", "", []string{"delete", "--tenant", "acme", "--id", "x", "--username", "alice"}, 2, "--id and --username"},
		{"missing tenant", "", []string{"get", "--username", "alice"}, 2, "--tenant"},
		{"missing tenant list", "", []string{"list"}, 2, "--tenant"},
		{"no password flag", "a long password here\n", []string{"set-password", "--tenant", "acme", "--username", "alice"}, 2, "--password-stdin"},
		{"attributes and clear", "", []string{"update", "--tenant", "acme", "--username", "alice", "--attribute", "a=1", "--clear-attributes"}, 2, "--clear-attributes"},
		{"attribute syntax", "", []string{"update", "--tenant", "acme", "--username", "alice", "--attribute", "plan"}, 2, "-attribute"},
		{"attribute twice", "", []string{"update", "--tenant", "acme", "--username", "alice", "--attribute", "a=1", "--attribute", "a=2"}, 2, `"a" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := herald(t, tc.stdin, append([]string{"user"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantText) || r.stdout != "" {
				t.Fatalf("exit %d (want %d), stderr %q (want %q), stdout %q", r.code, tc.wantCode, r.stderr, tc.wantText, r.stdout)
			}
		})
	}
}

func TestAttributeFlag(t *testing.T) {
	var m attributeMap
	for _, v := range []string{"s=gold", "n=10", `q="10"`, "b=true", `a=["x",1]`, `o={"k":"v"}`, "e=", "raw={not json", "eq=a=b"} {
		if err := m.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	want := attributeMap{"s": "gold", "n": float64(10), "q": "10", "b": true, "a": []any{"x", float64(1)},
		"o": map[string]any{"k": "v"}, "e": "", "raw": "{not json", "eq": "a=b"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("attributes %#v\nwant %#v", m, want)
	}
	for _, bad := range []string{"", "novalue", "=x"} {
		var m attributeMap
		if err := m.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
