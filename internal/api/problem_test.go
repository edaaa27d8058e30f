package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// These tests hold the problem kinds to one table (problemKinds): each kind
// has one status and one title, the document and docs/api.md list exactly
// the table's kinds, and the code answers no other.

func TestProblemKindsMatchDocument(t *testing.T) {
	t.Parallel()
	doc := oaLoadSpec(t)
	listed := map[string]problemKind{}
	oneOf, _ := doc.schema(t, "Problem")["oneOf"].([]any)
	if len(oneOf) == 0 {
		t.Fatal("components.schemas.Problem has no oneOf listing the kinds")
	}
	for i, alt := range oneOf {
		props, _ := doc.deref(t, alt)["properties"].(map[string]any)
		konst := func(name string) any {
			p, _ := props[name].(map[string]any)
			return p["const"]
		}
		typ, _ := konst("type").(string)
		title, _ := konst("title").(string)
		status, _ := konst("status").(float64)
		kind, ok := strings.CutPrefix(typ, "urn:hookline:problem:")
		if !ok || title == "" || status == 0 {
			t.Errorf("Problem.oneOf[%d]: want const type urn:hookline:problem:<kind>, title and status; got %v, %v, %v", i, typ, title, status)
			continue
		}
		if _, dup := listed[kind]; dup {
			t.Errorf("Problem.oneOf lists %s twice", kind)
		}
		listed[kind] = problemKind{status: int(status), title: title}
		if d, _ := doc.deref(t, alt)["description"].(string); d == "" {
			t.Errorf("Problem.oneOf: %s has no description", kind)
		}
	}
	sameKinds(t, "openapi.json Problem.oneOf", listed)
}

// sameKinds checks that where lists exactly the kinds of problemKinds, each
// with its status and title.
func sameKinds(t *testing.T, where string, listed map[string]problemKind) {
	t.Helper()
	for kind, k := range problemKinds {
		if got, ok := listed[kind]; !ok {
			t.Errorf("%s has no %s (problemKinds has)", where, kind)
		} else if got != k {
			t.Errorf("%s: %s is %d %q, problemKinds says %d %q", where, kind, got.status, got.title, k.status, k.title)
		}
	}
	for kind := range listed {
		if _, ok := problemKinds[kind]; !ok {
			t.Errorf("%s lists %s, which problemKinds does not have", where, kind)
		}
	}
}

// docsProblemRow is a row of the table of problem types in docs/api.md:
// | `kind` | status | title | when |
var docsProblemRow = regexp.MustCompile("^\\| `([a-z-]+)` \\| (\\d{3}) \\| ([^|]+?) \\|")

func TestProblemKindsMatchDocs(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]problemKind{}
	for _, line := range strings.Split(string(text), "\n") {
		if m := docsProblemRow.FindStringSubmatch(line); m != nil {
			status, _ := strconv.Atoi(m[2])
			listed[m[1]] = problemKind{status: status, title: m[3]}
		}
	}
	sameKinds(t, "docs/api.md's table of problem types", listed)
}

func TestProblemKindsOfFieldErrors(t *testing.T) {
	t.Parallel()
	for status, kind := range fieldKinds {
		p := problemOf(errField(status, "name", "is wrong"))
		if want := "urn:hookline:problem:" + kind; p.Type != want || p.Status != status {
			t.Errorf("errField(%d): got %s %d, want %s %d", status, p.Type, p.Status, want, status)
		}
		if k, ok := problemKinds[kind]; !ok || k.status != status || p.Title != k.title {
			t.Errorf("errField(%d): got title %q; kind %s in problemKinds: %v (known %v), want status %d", status, p.Title, kind, k, ok, status)
		}
	}
}

// statusCodes maps the names of net/http's status constants to their codes.
func statusCodes() map[string]int {
	codes := map[string]int{"statusClientClosed": statusClientClosed}
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			name := strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					return r
				}
				return -1
			}, text)
			codes["http.Status"+name] = code
		}
	}
	return codes
}

// TestProblemKindsInCode finds every kind the package's code names, in
// errStatus and newProblem calls, httpError literals and protocolKind, and
// holds it to problemKinds, with its status where the code gives one.
func TestProblemKindsInCode(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := statusCodes()
	fset := token.NewFileSet()
	found := 0
	check := func(at token.Pos, kindExpr, statusExpr ast.Expr) {
		lit, ok := kindExpr.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		found++
		kind, _ := strconv.Unquote(lit.Value)
		k, known := problemKinds[kind]
		if !known {
			t.Errorf("%s: kind %q is not in problemKinds (add it there and to openapi.json and docs/api.md)", fset.Position(at), kind)
			return
		}
		if statusExpr == nil {
			return
		}
		var name strings.Builder
		if sel, ok := statusExpr.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok {
				name.WriteString(x.Name + "." + sel.Sel.Name)
			}
		} else if id, ok := statusExpr.(*ast.Ident); ok {
			name.WriteString(id.Name)
		}
		if code, ok := codes[name.String()]; ok && code != k.status {
			t.Errorf("%s: kind %q answered with %s (%d); problemKinds gives it %d", fset.Position(at), kind, name.String(), code, k.status)
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				fn, _ := n.Fun.(*ast.Ident)
				switch {
				case fn == nil:
				case fn.Name == "errStatus" && len(n.Args) == 3:
					check(n.Pos(), n.Args[1], n.Args[0])
				case fn.Name == "newProblem" && len(n.Args) == 2:
					check(n.Pos(), n.Args[0], nil)
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "httpError" {
					var kind, status ast.Expr
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							switch kv.Key.(*ast.Ident).Name {
							case "kind":
								kind = kv.Value
							case "status":
								status = kv.Value
							}
						}
					}
					check(n.Pos(), kind, status)
				}
			case *ast.FuncDecl:
				if n.Name.Name == "protocolKind" {
					ast.Inspect(n.Body, func(n ast.Node) bool {
						if r, ok := n.(*ast.ReturnStmt); ok {
							check(r.Pos(), r.Results[0], nil)
						}
						return true
					})
					return false
				}
			}
			return true
		})
	}
	if found < 20 {
		t.Fatalf("found %d kinds in the code; the search is broken", found)
	}
	for status, kind := range fieldKinds {
		if k := problemKinds[kind]; k.status != status {
			t.Errorf("fieldKinds: %d is %s, which problemKinds answers %d", status, kind, k.status)
		}
	}
	for kind, k := range problemKinds {
		if k.title == "" || k.status < 300 || k.status > 599 {
			t.Errorf("problemKinds: %s has title %q and status %d", kind, k.title, k.status)
		}
	}
	if _, ok := problemKinds["internal"]; !ok {
		t.Error("problemKinds has no internal kind, which problemOf answers an unknown error with")
	}
}
