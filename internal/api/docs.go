package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
)

// openAPIDocument is the API's OpenAPI 3.1 description. openapi_test.go checks
// that it describes exactly the routes table.
//
//go:embed openapi.json
var openAPIDocument []byte

func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDocument)
}

type oaParameter struct {
	Name        string `json:"name"`
	In          string `json:"in"`
	Required    bool   `json:"required"`
	Description string `json:"description"`
}

type oaOperation struct {
	Summary     string                        `json:"summary"`
	Description string                        `json:"description"`
	Tags        []string                      `json:"tags"`
	Security    []map[string][]string         `json:"security"`
	Parameters  []oaParameter                 `json:"parameters"`
	RequestBody *struct{ Description string } `json:"requestBody"`
	Responses   map[string]struct {
		Description string `json:"description"`
	} `json:"responses"`
}

type oaDocument struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type docOperation struct {
	Method, Path string
	oaOperation
	Codes []string
}

type docSchema struct {
	Name string
	JSON string
}

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2430}
h1{margin-bottom:.2rem}code,pre{font:13px ui-monospace,monospace}pre{background:#f4f5f7;padding:.6rem;overflow:auto}
.op{border-top:1px solid #dde;padding:.6rem 0}.m{display:inline-block;min-width:4.2rem;font-weight:700}
.GET{color:#1565c0}.POST{color:#2e7d32}.PUT,.PATCH{color:#ef6c00}.DELETE{color:#c62828}
table{border-collapse:collapse}td,th{padding:.1rem .6rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{.Title}}</h1><p>Version {{.Version}} · machine-readable: <a href="/openapi.json">/openapi.json</a></p>
<p>{{.Description}}</p>
<h2>Operations</h2>
{{range .Ops}}<div class="op" id="{{.Method}}{{.Path}}"><span class="m {{.Method}}">{{.Method}}</span> <code>{{.Path}}</code> — {{.Summary}}
{{if .Description}}<p>{{.Description}}</p>{{end}}
{{if .Parameters}}<table><tr><th>parameter</th><th>in</th><th></th></tr>{{range .Parameters}}<tr><td><code>{{.Name}}</code>{{if .Required}} *{{end}}</td><td>{{.In}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
<p>Responses: {{range $i, $c := .Codes}}{{if $i}}, {{end}}<code>{{$c}}</code>{{end}}</p></div>
{{end}}
<h2>Schemas</h2>
{{range .Schemas}}<h3 id="schema-{{.Name}}">{{.Name}}</h3><pre>{{.JSON}}</pre>{{end}}
</body></html>`))

func (h *handler) docs(w http.ResponseWriter, r *http.Request) {
	var doc oaDocument
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		h.error(w, r, err)
		return
	}
	var ops []docOperation
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op oaOperation
			if json.Unmarshal(raw, &op) != nil {
				continue // a path-level field such as "parameters"
			}
			d := docOperation{Method: strings.ToUpper(method), Path: path, oaOperation: op}
			for code := range op.Responses {
				d.Codes = append(d.Codes, code)
			}
			sort.Strings(d.Codes)
			ops = append(ops, d)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	var schemas []docSchema
	for name, raw := range doc.Components.Schemas {
		var b bytes.Buffer
		json.Indent(&b, raw, "", "  ")
		schemas = append(schemas, docSchema{Name: name, JSON: b.String()})
	}
	sort.Slice(schemas, func(i, j int) bool { return schemas[i].Name < schemas[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	docsPage.Execute(w, map[string]any{
		"Title": doc.Info.Title, "Version": doc.Info.Version, "Description": doc.Info.Description,
		"Ops": ops, "Schemas": schemas,
	})
}
