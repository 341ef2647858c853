package handlers_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"hookyard/handlers"
	"hookyard/store"
)

// openAPIDoc is the parts of an OpenAPI document the tests look at.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Servers    []struct{ URL string }                `json:"servers"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]any             `json:"components"`
	raw        any
}

// openAPIPrefix is the one server URL of the document; its paths are written without it.
const openAPIPrefix = "/api/v1"

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// fetchOpenAPI starts the real router and returns it with the document it serves.
func fetchOpenAPI(t *testing.T) (*echo.Echo, openAPIDoc) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "hookyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := handlers.New(t.Context(), st, handlers.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Engine: testEngine(t, st, false)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + openAPIPrefix + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json without a token: status %d, want 200\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the served document is not valid JSON: %v", err)
	}
	if err := json.Unmarshal(body, &doc.raw); err != nil {
		t.Fatal(err)
	}
	return e, doc
}

var openAPIEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIRoutes lists the /api/v1 routes of the route table as "method /path" in the
// document's notation: lower-case method, {param}, without the server prefix.
func openAPIRoutes(t *testing.T, e *echo.Echo) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, openAPIPrefix) {
			continue
		}
		// The group's catch-alls answer 404 problem+json for unknown API paths; they are
		// not part of the API.
		if r.Method == echo.RouteNotFound || r.Path == openAPIPrefix+"/*" {
			continue
		}
		method := strings.ToLower(r.Method)
		if !slices.Contains(openAPIMethods, method) {
			t.Errorf("route %s %s uses a method OpenAPI cannot describe", r.Method, r.Path)
			continue
		}
		path := strings.TrimPrefix(r.Path, openAPIPrefix)
		if strings.Contains(path, "*") {
			t.Errorf("route %s %s: a wildcard route cannot be documented; give it named parameters", r.Method, r.Path)
		}
		out[method+" "+openAPIEchoParam.ReplaceAllString(path, "{$1}")] = true
	}
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e, doc := fetchOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != openAPIPrefix {
		t.Errorf("servers = %+v, want exactly [{url: %s}] (paths are written without the prefix)", doc.Servers, openAPIPrefix)
	}
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("security = %v, want the bearerAuth scheme applied globally", doc.Security)
	}
	if s, _ := doc.Components["securitySchemes"]["bearerAuth"].(map[string]any); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("components.securitySchemes.bearerAuth = %v, want an http bearer scheme", s)
	}

	routes := openAPIRoutes(t, e)
	if len(routes) < 20 {
		t.Fatalf("found only %d /api/v1 routes in the route table; is the filter wrong?\n%v", len(routes), routes)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		if strings.HasPrefix(path, openAPIPrefix+"/") {
			t.Errorf("path %s repeats the server prefix %s", path, openAPIPrefix)
		}
		for key := range item {
			if slices.Contains(openAPIMethods, key) {
				documented[key+" "+path] = true
			}
		}
	}
	for _, r := range openAPISortedKeys(routes) {
		if !documented[r] {
			t.Errorf("route %s is in routes.go but not in handlers/openapi.json", r)
		}
	}
	for _, d := range openAPISortedKeys(documented) {
		if !routes[d] {
			t.Errorf("openapi.json documents %s, which routes.go does not serve", d)
		}
	}
	if !documented["get /openapi.json"] {
		t.Error("the document does not describe itself (GET /openapi.json)")
	}
}

// Every operation declares exactly the path parameters of its template, says what it
// answers, and lists the errors its middleware can produce.
func TestOpenAPIOperations(t *testing.T) {
	_, doc := fetchOpenAPI(t)
	paths := doc.raw.(map[string]any)["paths"].(map[string]any)
	template := regexp.MustCompile(`\{([^}]+)\}`)
	operationIDs := map[string]string{}
	for path, item := range paths {
		item := item.(map[string]any)
		var want []string
		for _, m := range template.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		sort.Strings(want)
		shared := openAPIPathParams(t, doc, item["parameters"])
		for _, method := range openAPIMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			got := append(slices.Clone(shared), openAPIPathParams(t, doc, op["parameters"])...)
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s declares path parameters %v, want %v", name, got, want)
			}
			if id, _ := op["operationId"].(string); operationIDs[id] != "" {
				t.Errorf("%s and %s share the operationId %q", operationIDs[id], name, id)
			} else if id != "" {
				operationIDs[id] = name
			}
			for _, field := range []string{"operationId", "summary", "description"} {
				if s, _ := op[field].(string); strings.TrimSpace(s) == "" {
					t.Errorf("%s has no %s", name, field)
				}
			}
			responses, _ := op["responses"].(map[string]any)
			success := false
			for code := range responses {
				success = success || strings.HasPrefix(code, "2")
			}
			if !success {
				t.Errorf("%s documents no success response", name)
			}
			secured := op["security"] == nil // nil: the global bearer requirement applies
			if _, ok := responses["401"]; secured && !ok {
				t.Errorf("%s needs a token but does not document 401", name)
			}
			// A body may be malformed (400); a body that must be given is validated (422).
			if body, ok := op["requestBody"].(map[string]any); ok {
				codes := []string{"400"}
				if body["required"] == true {
					codes = append(codes, "422")
				}
				for _, code := range codes {
					if _, ok := responses[code]; !ok {
						t.Errorf("%s takes a body but does not document %s", name, code)
					}
				}
			}
		}
	}
}

// openAPIPathParams returns the names of the in: path parameters of a parameters list.
func openAPIPathParams(t *testing.T, doc openAPIDoc, list any) []string {
	t.Helper()
	var out []string
	params, _ := list.([]any)
	for _, p := range params {
		p := openAPIResolve(t, doc, p.(map[string]any))
		if p["in"] == "path" {
			if p["required"] != true {
				t.Errorf("path parameter %v must be required", p["name"])
			}
			out = append(out, p["name"].(string))
		}
	}
	return out
}

func TestOpenAPIRefsResolve(t *testing.T) {
	_, doc := fetchOpenAPI(t)
	refs := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if _, err := openAPILookupRef(doc, ref); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", doc.raw)
	if refs == 0 {
		t.Fatal("found no $ref at all; the walk is broken")
	}
	for _, name := range []string{"Organization", "OrganizationDetail", "Project", "User", "UserDetail", "Me", "EventType", "Problem"} {
		if _, ok := doc.Components["schemas"][name]; !ok {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
}

// openAPILookupRef finds a local reference such as #/components/schemas/User.
func openAPILookupRef(doc openAPIDoc, ref string) (map[string]any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local to the document", ref)
	}
	var v any = doc.raw
	for _, part := range strings.Split(rest, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		if v, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q does not point at an object", ref)
	}
	return m, nil
}

// openAPIResolve follows $ref until it reaches the object itself.
func openAPIResolve(t *testing.T, doc openAPIDoc, v map[string]any) map[string]any {
	t.Helper()
	for i := 0; i < 10; i++ {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var err error
		if v, err = openAPILookupRef(doc, ref); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("$ref chain too long")
	return nil
}

// The responses the handlers really send have the fields the document promises, no more
// and no fewer, with the documented types and media types.
func TestOpenAPIMatchesResponses(t *testing.T) {
	_, doc := fetchOpenAPI(t)
	app := newTestApp(t)
	admin := app.admin()
	member := app.member("mo@example.com", "Mo Member")
	org := app.org("Acme")
	prj := app.project(org.ID, "Website")
	app.addMember(org.ID, member.ID)
	adminToken, memberToken := app.token(admin), app.token(member)

	cases := []struct {
		token, method, path string
		body                any
		status              int
		docPath             string
	}{
		{adminToken, "GET", "/me", nil, 200, "/me"},
		{memberToken, "GET", "/me", nil, 200, "/me"},
		{adminToken, "GET", "/event-types", nil, 200, "/event-types"},
		{adminToken, "POST", "/event-types", map[string]string{"name": "INVOICE_PAID", "label": "Invoice paid"}, 201, "/event-types"},
		{adminToken, "POST", "/event-types", map[string]string{"name": "bad"}, 422, "/event-types"},
		{memberToken, "POST", "/event-types", map[string]string{"name": "X_Y_Z", "label": "x"}, 403, "/event-types"},
		{adminToken, "GET", "/organizations?limit=1", nil, 200, "/organizations"},
		{adminToken, "GET", "/organizations?limit=0", nil, 400, "/organizations"},
		{adminToken, "POST", "/organizations", map[string]string{"name": "Globex"}, 201, "/organizations"},
		{adminToken, "POST", "/organizations", `{"name": 3}`, 400, "/organizations"},
		{memberToken, "GET", "/organizations/" + org.ID, nil, 200, "/organizations/{id}"},
		{adminToken, "PATCH", "/organizations/" + org.ID, map[string]string{"name": "Acme Inc"}, 200, "/organizations/{id}"},
		{adminToken, "PATCH", "/organizations/nope", map[string]string{"name": "x"}, 404, "/organizations/{id}"},
		{adminToken, "PUT", "/organizations/" + org.ID + "/members/" + admin.ID, nil, 204, "/organizations/{id}/members/{userId}"},
		{adminToken, "GET", "/projects?organizationId=" + org.ID, nil, 200, "/projects"},
		{adminToken, "POST", "/projects", map[string]string{"organizationId": org.ID, "name": "Mobile"}, 201, "/projects"},
		{adminToken, "POST", "/projects", map[string]string{"organizationId": "org_missing", "name": "Mobile"}, 422, "/projects"},
		{memberToken, "GET", "/projects/" + prj.ID, nil, 200, "/projects/{id}"},
		{adminToken, "PATCH", "/projects/" + prj.ID, map[string]string{}, 200, "/projects/{id}"},
		{adminToken, "GET", "/users", nil, 200, "/users"},
		{memberToken, "GET", "/users", nil, 403, "/users"},
		{adminToken, "POST", "/users", map[string]string{"email": "new@example.com", "name": "New", "password": "long enough"}, 201, "/users"},
		{memberToken, "GET", "/users/" + member.ID, nil, 200, "/users/{id}"},
		{memberToken, "GET", "/users/" + admin.ID, nil, 404, "/users/{id}"},
		{memberToken, "PATCH", "/users/" + member.ID, map[string]string{"name": "Mo"}, 200, "/users/{id}"},
		{memberToken, "PATCH", "/users/" + member.ID, map[string]string{"role": "admin"}, 403, "/users/{id}"},
		{adminToken, "DELETE", "/users/" + admin.ID, nil, 409, "/users/{id}"},
		{adminToken, "POST", "/webhooks", map[string]any{"name": "Filtered", "url": "https://93.184.215.14/hook", "headers": map[string]string{"X-Api-Key": "k"}, "rateLimitPerSecond": 2.5, "ordered": true,
			"filter": map[string]any{"match": "all", "conditions": []map[string]any{{"path": "currentValue.status", "op": "eq", "value": "Done"}}}}, 201, "/webhooks"},
		{adminToken, "GET", "/webhooks", nil, 200, "/webhooks"},
		{adminToken, "POST", "/filters/evaluate", map[string]any{"payload": map[string]any{"currentValue": map[string]any{"status": "Done"}},
			"filter": map[string]any{"conditions": []map[string]any{{"path": "currentValue.status", "op": "eq", "value": "Done"}, {"path": "currentValue.n", "op": "exists"}}}}, 200, "/filters/evaluate"},
		{adminToken, "POST", "/filters/evaluate", map[string]any{"eventId": "evt_missing",
			"filter": map[string]any{"conditions": []map[string]any{{"path": "event", "op": "exists"}}}}, 404, "/filters/evaluate"},
		{adminToken, "POST", "/filters/evaluate", map[string]any{"filter": map[string]any{"conditions": []any{}}}, 422, "/filters/evaluate"},
		{"", "GET", "/me", nil, 401, "/me"},
		{"hyk_not-a-token", "GET", "/projects", nil, 401, "/projects"},
	}
	for _, c := range cases {
		name := c.method + " " + c.path + " → " + fmt.Sprint(c.status)
		r := app.api(c.token, c.method, openAPIPrefix+c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: got %d\n%s", name, r.Status, r.Body)
			continue
		}
		item, ok := doc.raw.(map[string]any)["paths"].(map[string]any)[c.docPath].(map[string]any)
		if !ok {
			t.Errorf("%s: %s is not documented", name, c.docPath)
			continue
		}
		op, _ := item[strings.ToLower(c.method)].(map[string]any)
		responses, _ := op["responses"].(map[string]any)
		resp, ok := responses[fmt.Sprint(c.status)].(map[string]any)
		if !ok {
			t.Errorf("%s: the status is not documented for %s %s", name, c.method, c.docPath)
			continue
		}
		resp = openAPIResolve(t, doc, resp)
		content, _ := resp["content"].(map[string]any)
		if len(content) == 0 {
			if len(r.Body) != 0 {
				t.Errorf("%s: documented without a body, but one came: %s", name, r.Body)
			}
			continue
		}
		mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
		media, ok := content[mediaType].(map[string]any)
		if !ok {
			t.Errorf("%s: answered %s, which the document does not list", name, mediaType)
			continue
		}
		var body any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("%s: body is not JSON: %v", name, err)
			continue
		}
		openAPICheckShape(t, doc, name, media["schema"].(map[string]any), body)
	}
}

// openAPICheckShape fails the test where value does not fit schema: wrong JSON type, a field the
// schema does not declare, or a required field missing. It understands the few keywords the
// document uses ($ref, allOf, oneOf of a schema or null, type, properties,
// additionalProperties, required, items).
func openAPICheckShape(t *testing.T, doc openAPIDoc, at string, schema map[string]any, value any) {
	t.Helper()
	schema = openAPIResolve(t, doc, schema)
	if one, ok := schema["oneOf"].([]any); ok {
		// "This schema, or null": null fits when an alternative is null; anything else is
		// checked against the first alternative that is not.
		for _, alt := range one {
			a := openAPIResolve(t, doc, alt.(map[string]any))
			if a["type"] == "null" {
				if value == nil {
					return
				}
				continue
			}
			openAPICheckShape(t, doc, at, a, value)
			return
		}
	}
	props, required := map[string]any{}, []string{}
	var types []string
	parts := []map[string]any{schema}
	if all, ok := schema["allOf"].([]any); ok {
		for _, p := range all {
			parts = append(parts, openAPIResolve(t, doc, p.(map[string]any)))
		}
	}
	for _, p := range parts {
		switch ty := p["type"].(type) {
		case string:
			types = append(types, ty)
		case []any:
			for _, x := range ty {
				types = append(types, x.(string))
			}
		}
		if ps, ok := p["properties"].(map[string]any); ok {
			for k, v := range ps {
				props[k] = v
			}
		}
		if rs, ok := p["required"].([]any); ok {
			for _, r := range rs {
				required = append(required, r.(string))
			}
		}
	}
	if len(props) > 0 && !slices.Contains(types, "object") {
		types = append(types, "object")
	}
	if len(types) == 0 && len(parts) == 1 && schema["items"] == nil {
		return // a schema without type or properties (such as AnyValue) takes any JSON
	}
	if got := openAPIJSONType(value); len(types) > 0 && !slices.Contains(types, got) &&
		(got != "integer" || !slices.Contains(types, "number")) {
		t.Errorf("%s: %s is %s, documented as %v", at, openAPITruncate(value), got, types)
		return
	}
	switch v := value.(type) {
	case map[string]any:
		extra, _ := schema["additionalProperties"].(map[string]any)
		for k, child := range v {
			s, ok := props[k].(map[string]any)
			if !ok && extra != nil {
				s, ok = extra, true
			}
			if !ok {
				t.Errorf("%s: field %q is sent but not documented", at, k)
				continue
			}
			openAPICheckShape(t, doc, at+"."+k, s, child)
		}
		for _, k := range required {
			if _, ok := v[k]; !ok {
				t.Errorf("%s: documented field %q is required but not sent", at, k)
			}
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, child := range v {
			if items != nil {
				openAPICheckShape(t, doc, fmt.Sprintf("%s[%d]", at, i), items, child)
			}
		}
	}
}

func openAPIJSONType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func openAPITruncate(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

func openAPISortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
