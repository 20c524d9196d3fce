package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"

	"github.com/herald-idp/herald/storage"
)

// Flag types and helpers shared by the data commands. Update commands
// change only what was given on the command line: givenFlags (fs.Visit)
// tells a flag left out from one set to its zero value (--logo-url "").

// stringList is a repeatable flag (--redirect-uri A --redirect-uri B).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// givenFlags names the flags set on the command line (fs.Visit), so that
// an update changes only those.
func givenFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// ptrIf returns &v when the flag name was given, else nil ("unchanged").
func ptrIf[T any](given map[string]bool, name string, v T) *T {
	if !given[name] {
		return nil
	}
	return &v
}

// replaceableList is a repeatable flag whose values replace a stored list
// as a whole, with a companion --clear-... flag that empties it (none when
// clearName is "": creation has nothing to clear).
type replaceableList struct {
	name, clearName string
	values          stringList
	clear           bool
}

func newReplaceableList(fs *flag.FlagSet, name, clearName, usage, clearUsage string) *replaceableList {
	l := &replaceableList{name: name, clearName: clearName}
	fs.Var(&l.values, name, usage)
	if clearName != "" {
		fs.BoolVar(&l.clear, clearName, false, clearUsage)
	}
	return l
}

// check refuses --X together with --clear-X (a usage error).
func (l *replaceableList) check(cmd string) error {
	if len(l.values) > 0 && l.clear {
		return usagef("%s: give --%s or --%s, not both", cmd, l.name, l.clearName)
	}
	return nil
}

// update is the new list (empty after --clear-X), or nil when neither flag
// was given.
func (l *replaceableList) update() *[]string {
	switch {
	case l.clear:
		return &[]string{}
	case len(l.values) > 0:
		v := []string(l.values)
		return &v
	}
	return nil
}

// claimList is the repeatable --custom-claim flag. Each value is
//
//	CLAIM=ATTRIBUTE[:SCOPE[:TARGET,TARGET...]]
//
// or a JSON object {"claim","attribute","scope","targets"}. ATTRIBUTE ends
// at the first ':'; once there are two ':' after the '=', the part after
// the last one is the target list, so a scope may itself contain ':'
// (plan=plan_level:billing:read: — the trailing ':' gives an empty target
// list, meaning all three). An attribute whose name contains ':' needs the
// JSON form. Names are checked by the registry, not here.
type claimList []storage.ClaimMapping

func (l *claimList) String() string { return fmt.Sprint(len(*l)) }

func (l *claimList) Set(v string) error {
	m, err := parseClaimMapping(v)
	if err != nil {
		return err
	}
	*l = append(*l, m)
	return nil
}

func parseClaimMapping(v string) (storage.ClaimMapping, error) {
	var m storage.ClaimMapping
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return m, fmt.Errorf(`want a JSON object {"claim","attribute","scope","targets"}: %v`, err)
		}
		return m, nil
	}
	claim, rest, ok := strings.Cut(v, "=")
	if !ok || claim == "" {
		return m, errors.New("want CLAIM=ATTRIBUTE[:SCOPE[:TARGET,TARGET]], e.g. plan=plan_level:profile:id_token,userinfo")
	}
	m.Claim = claim
	attr, tail, hasScope := strings.Cut(rest, ":")
	if attr == "" {
		return m, fmt.Errorf("%q names no attribute after '='", v)
	}
	m.Attribute = attr
	if !hasScope {
		return m, nil
	}
	scope, targets := tail, ""
	if i := strings.LastIndex(tail, ":"); i >= 0 {
		scope, targets = tail[:i], tail[i+1:]
	}
	m.Scope = scope
	if targets != "" {
		m.Targets = strings.Split(targets, ",")
	}
	return m, nil
}

// attributeMap is the repeatable --attribute KEY=VALUE flag. VALUE is
// parsed as JSON ("gold" → the string, 3 → the number, ["a","b"] → an
// array); what is not valid JSON is taken as a plain string, so
// --attribute plan_level=gold needs no quotes.
type attributeMap map[string]any

func (m *attributeMap) String() string { return fmt.Sprint(len(*m)) }

func (m *attributeMap) Set(v string) error {
	key, raw, ok := strings.Cut(v, "=")
	if !ok || key == "" {
		return errors.New("want KEY=VALUE, VALUE being JSON or a plain string (plan_level=gold, groups='[\"admins\"]')")
	}
	if _, dup := (*m)[key]; dup {
		return fmt.Errorf("attribute %q given twice", key)
	}
	var val any
	if err := json.Unmarshal([]byte(raw), &val); err != nil {
		val = raw
	}
	if *m == nil {
		*m = attributeMap{}
	}
	(*m)[key] = val
	return nil
}

// fieldFlags maps registry.ValidationError fields to the flags that set them.
var fieldFlags = map[string]string{
	"name": "--name", "display_name": "--display-name", "signing_alg": "--signing-alg",
	"hostnames": "--hostname",
	"id":        "--id", "auth_method": "--auth-method", "application_type": "--application-type",
	"redirect_uris": "--redirect-uri", "post_logout_redirect_uris": "--post-logout-redirect-uri",
	"cors_origins": "--cors-origin", "grant_types": "--grant", "scopes": "--scope",
	"access_token_format": "--access-token-format", "first_party": "--first-party",
	"access_token_lifetime": "--access-token-lifetime", "id_token_lifetime": "--id-token-lifetime",
	"refresh_token_lifetime": "--refresh-token-lifetime",
	"username":               "--username", "email": "--email", "email_verified": "--email-verified",
	"given_name": "--given-name", "family_name": "--family-name", "attributes": "--attribute",
	"password": "--password-stdin", "password_hash": "--password-hash-stdin",
	"limit": "--limit",
	// Only the system tenant refuses to be disabled: the tenant named is wrong.
	"disabled": "--name",
	// Tenant settings.
	"settings.logo_url": "--logo-url", "settings.accent_color": "--accent-color",
	"settings.access_token_lifetime":      "--access-token-lifetime",
	"settings.id_token_lifetime":          "--id-token-lifetime",
	"settings.refresh_token_lifetime":     "--refresh-token-lifetime",
	"settings.session_idle_timeout":       "--session-idle-timeout",
	"settings.session_absolute_lifetime":  "--session-absolute-lifetime",
	"settings.allowed_signing_algorithms": "--allowed-signing-alg",
	"settings.password_min_length":        "--password-min-length",
	"settings.custom_claims":              "--custom-claim",
}

// claimField matches the registry's field of one custom claim,
// settings.custom_claims[3].targets.
var claimField = regexp.MustCompile(`^settings\.custom_claims\[(\d+)\]\.\w+$`)

// flagFor names the flag behind a registry field: "--custom-claim #2" for
// the second custom claim; the field itself when no flag sets it.
func flagFor(field string) string {
	if f, ok := fieldFlags[field]; ok {
		return f
	}
	if m := claimField.FindStringSubmatch(field); m != nil {
		var i int
		fmt.Sscan(m[1], &i)
		return fmt.Sprintf("--custom-claim #%d", i+1)
	}
	return field
}
