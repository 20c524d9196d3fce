package admin

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.yaml.in/yaml/v3"

	"github.com/herald-idp/herald/op/registry"
)

const openAPIPath = "../../docs/openapi.yaml"

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIPath, err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi version %q, want 3.1.x", v)
	}
	return doc
}

// documentedRoutes lists "METHOD /path" for every operation in the file.
func documentedRoutes(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for k, op := range item.(map[string]any) {
			if slices.Contains(httpMethods, k) {
				out[strings.ToUpper(k)+" "+p] = op.(map[string]any)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no operations documented")
	}
	return out
}

// TestOpenAPIMatchesRoutes: every documented operation is served, and every
// served route is documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedRoutes(t, doc)
	served := map[string]bool{}
	err := chi.Walk(newRouter(&registry.Registry{}, fakeAuth), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("documented but not served: %s", r)
		}
	}
	for r := range served {
		if documented[r] == nil {
			t.Errorf("served but not documented: %s", r)
		}
	}

	// And through the mounted handler: no documented operation meets the
	// router's own 404 or 405.
	a := newAPI(t)
	fill := strings.NewReplacer("{tenant}", "nope", "{client}", "nope", "{user}", "nope", "{connector}", "nope")
	for r := range documented {
		method, path, _ := strings.Cut(r, " ")
		res := a.send(t, method, fill.Replace(path), "{}", "application/json", tokenAdmin)
		var body errorBody
		_ = json.Unmarshal(res.body, &body)
		if res.status == http.StatusMethodNotAllowed || body.Description == "no such admin endpoint" {
			t.Errorf("%s: the router does not serve it (%d %s)", r, res.status, res.body)
		}
	}
}

// TestOpenAPIOperations checks what every operation must document.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	if _, ok := doc["security"]; !ok {
		t.Error("no global bearer security requirement")
	}
	for r, op := range documentedRoutes(t, doc) {
		responses, _ := op["responses"].(map[string]any)
		for _, code := range []string{"401", "403", "500", "503"} {
			if responses[code] == nil {
				t.Errorf("%s: response %s undocumented", r, code)
			}
		}
		if strings.Contains(r, "{") && responses["404"] == nil {
			t.Errorf("%s: response 404 undocumented", r)
		}
		if body, ok := op["requestBody"].(map[string]any); ok {
			content, _ := body["content"].(map[string]any)
			if len(content) != 1 || content["application/json"] == nil {
				t.Errorf("%s: the request body must be application/json only", r)
			}
			for _, code := range []string{"400", "413", "415"} {
				if responses[code] == nil {
					t.Errorf("%s: response %s undocumented", r, code)
				}
			}
		}
		if op["operationId"] == nil || op["summary"] == nil {
			t.Errorf("%s: operationId or summary missing", r)
		}
	}
	// Every $ref points at something.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if resolve(doc, ref) == nil {
					t.Errorf("unresolved $ref %q", ref)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}

func resolve(doc map[string]any, ref string) any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// TestOpenAPISchemasMatchTypes: each schema lists exactly the JSON fields
// of the Go type that decodes or renders it, so that the file cannot drift
// from the code.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas, _ := resolve(doc, "#/components/schemas").(map[string]any)
	for name, typ := range map[string]reflect.Type{
		"Error":               reflect.TypeFor[errorBody](),
		"FieldError":          reflect.TypeFor[fieldError](),
		"Tenant":              reflect.TypeFor[TenantJSON](),
		"TenantCreate":        reflect.TypeFor[createTenantRequest](),
		"TenantUpdate":        reflect.TypeFor[updateTenantRequest](),
		"TenantSettings":      reflect.TypeFor[SettingsJSON](),
		"TenantSettingsInput": reflect.TypeFor[settingsPatch](),
		"ClaimMapping":        reflect.TypeFor[ClaimJSON](),
		"Client":              reflect.TypeFor[ClientJSON](),
		"ClientCreate":        reflect.TypeFor[createClientRequest](),
		"ClientUpdate":        reflect.TypeFor[updateClientRequest](),
		"User":                reflect.TypeFor[UserJSON](),
		"UserCreate":          reflect.TypeFor[createUserRequest](),
		"UserUpdate":          reflect.TypeFor[updateUserRequest](),
		"PasswordSet":         reflect.TypeFor[setPasswordRequest](),
		"MFASettings":         reflect.TypeFor[MFASettingsJSON](),
		"UserMFA":             reflect.TypeFor[UserMFAJSON](),
		"Key":                 reflect.TypeFor[KeyJSON](),
		"KeyRotation":         reflect.TypeFor[RotateKeysJSON](),
		"KeyRevocation":       reflect.TypeFor[RevokeKeyJSON](),
		"AuditEvent":          reflect.TypeFor[AuditEventJSON](),
		"Connector":           reflect.TypeFor[ConnectorJSON](),
		"ConnectorCreate":     reflect.TypeFor[createConnectorRequest](),
		"ConnectorUpdate":     reflect.TypeFor[updateConnectorRequest](),
		"UserLink":            reflect.TypeFor[UserLinkJSON](),
	} {
		schema, _ := schemas[name].(map[string]any)
		if schema == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		props, _ := schema["properties"].(map[string]any)
		var documented, fields []string
		for p := range props {
			documented = append(documented, p)
		}
		fields = jsonFieldNames(typ)
		slices.Sort(documented)
		slices.Sort(fields)
		if !slices.Equal(documented, fields) {
			t.Errorf("schema %s has properties %v; %s has JSON fields %v", name, documented, typ, fields)
		}
		if strings.HasSuffix(name, "Create") || strings.HasSuffix(name, "Update") || strings.HasSuffix(name, "Input") || name == "PasswordSet" || name == "ClaimMapping" {
			if schema["additionalProperties"] != false {
				t.Errorf("request schema %s must say additionalProperties: false (unknown fields are refused)", name)
			}
		}
	}
}

// jsonFieldNames lists the JSON names of typ's fields, those of embedded
// structs included (encoding/json promotes them).
func jsonFieldNames(typ reflect.Type) []string {
	var names []string
	for f := range typ.Fields() {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			names = append(names, jsonFieldNames(f.Type)...)
			continue
		}
		names = append(names, tag)
	}
	return names
}
