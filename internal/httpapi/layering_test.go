package httpapi

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Handlers parse, call one domain function and answer: the HTTP layer
// never reaches the database itself (issue: permission checks and SQL out
// of the handlers). A non-test file of this package importing the store
// fails. ACC-1
func TestHandlersDoNotImportStore(t *testing.T) {
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "vigil/internal/store" {
				t.Errorf("%s imports %s: call a domain function instead", e.Name(), p)
			}
		}
	}
}
