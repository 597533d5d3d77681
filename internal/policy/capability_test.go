package policy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// mediaPackages are the packages that hold or serve footage and streams.
var mediaPackages = []string{"playback", "live", "record", "storage"}

// mediaResults are the result types that hand out media: footage bytes,
// open segments, clips, hub readers, live sessions, pictures.
var mediaResults = map[string]bool{
	"*Clip": true, "*playback.Clip": true, "Object": true, "storage.Object": true,
	"*media.Reader": true, "*Session": true, "*live.Session": true, "[]byte": true,
	"*Stream": true, "*playback.Stream": true, "io.Reader": true, "io.ReadCloser": true, "io.ReaderAt": true, "io.ReadSeeker": true, "*os.File": true,
}

// mediaParams are parameter types through which a function writes media
// out (a live stream into an io.Writer).
var mediaParams = map[string]bool{"io.Writer": true}

// allowedWithoutDecision are exported media reads that need no Decision,
// each with its reason. Anything new is a test failure until it takes a
// policy.Decision (or asks the gate itself) or is argued for here.
var allowedWithoutDecision = map[string]string{
	// A *Clip exists only through playback.Open, which checked the
	// Decision; writing it out is part of that read.
	"playback.(*Clip).WriteMP4":  "a Clip is made only by Open, after Covers",
	"playback.(*Clip).WriteFMP4": "a Clip is made only by Open, after Covers",
	// The raw store is below the gate: its readers are playback.Open
	// (after Covers) and record's verify and crash repair, which hash and
	// parse segments without showing them to anyone.
	"storage.(*Local).Open": "the raw store, read by playback.Open after Covers and by record's verify/repair",
	// A session is the handle of a view the gate already allowed
	// (StartWHEP); looking it up returns stats and its end, no video.
	"live.(*Service).Session": "looks up an allowed session's stats; carries no video",
}

// exportedMediaReads lists "pkg.Func" or "pkg.(*T).Method" of the
// exported functions in src that hand out media and neither take a
// policy.Decision nor ask the gate themselves (a call to Decide/decide in
// the body, with the subject as a parameter).
func exportedMediaReads(t *testing.T, fset *token.FileSet, pkg string, files []*ast.File) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			name := pkg + "." + fn.Name.Name
			if fn.Recv != nil {
				rt := types(fn.Recv.List[0].Type)
				if !ast.IsExported(strings.TrimPrefix(rt, "*")) {
					continue
				}
				name = pkg + ".(" + rt + ")." + fn.Name.Name
			}
			media := false
			if fn.Type.Results != nil {
				for _, r := range fn.Type.Results.List {
					media = media || mediaResults[types(r.Type)]
				}
			}
			decision := false
			for _, p := range fn.Type.Params.List {
				ty := types(p.Type)
				media = media || mediaParams[ty]
				decision = decision || ty == "policy.Decision"
			}
			if !media || decision || asksTheGate(fn) {
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

// asksTheGate reports whether fn takes the asking subject (directly or in
// a request) and calls the gate's Decide (or the package's decide) in its
// own body: a façade that decides, then reads with the Decision.
func asksTheGate(fn *ast.FuncDecl) bool {
	subject := false
	for _, p := range fn.Type.Params.List {
		ty := types(p.Type)
		subject = subject || ty == "*policy.Subject" || ty == "Request"
	}
	calls := false
	if fn.Body != nil {
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Decide" || sel.Sel.Name == "decide") {
					calls = true
				}
			}
			return true
		})
	}
	return subject && calls
}

func types(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.StarExpr:
		return "*" + types(x.X)
	case *ast.SelectorExpr:
		return types(x.X) + "." + x.Sel.Name
	case *ast.ArrayType:
		if x.Len == nil {
			return "[]" + types(x.Elt)
		}
	}
	return "?"
}

func parseDir(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// TestExportedMediaReadsNeedADecision: no exported function of playback,
// live, record or storage hands out footage or a stream without a
// policy.Decision (or asking the gate itself), except the justified
// allowlist. // ACC-3, RET-4
func TestExportedMediaReadsNeedADecision(t *testing.T) {
	fset := token.NewFileSet()
	var bad []string
	seen := map[string]bool{}
	for _, pkg := range mediaPackages {
		for _, name := range exportedMediaReads(t, fset, pkg, parseDir(t, fset, filepath.Join("..", pkg))) {
			seen[name] = true
			if _, ok := allowedWithoutDecision[name]; !ok {
				bad = append(bad, name)
			}
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("exported media reads without a policy.Decision: %s", strings.Join(bad, ", "))
	}
	for name := range allowedWithoutDecision {
		if !seen[name] {
			t.Errorf("allowlist entry %s matches nothing: remove it", name)
		}
	}
}

// TestMediaReadCheckCatchesAPlantedRead: the check above fails on a new
// exported read without a Decision — today's playback.Open among them.
func TestMediaReadCheckCatchesAPlantedRead(t *testing.T) {
	src := `package playback
import ("context"; "time"; "vigil/internal/policy"; "vigil/internal/storage")
func Open(ctx context.Context, x *record.Index, st storage.Store, camera string, start time.Time, d time.Duration) (*Clip, error) { return nil, nil }
func Peek(ctx context.Context, key string) (storage.Object, error) { return nil, nil }
func Covered(ctx context.Context, dec policy.Decision, key string) (storage.Object, error) { return nil, nil }
func (s *Service) Sneak(ctx context.Context, subj *policy.Subject, id string) (*Clip, error) { return nil, nil }
func (s *Service) Asks(ctx context.Context, subj *policy.Subject, id string) (*Clip, error) { s.gate.Decide(ctx, nil); return nil, nil }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "planted.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(exportedMediaReads(t, fset, "playback", []*ast.File{f}), " ")
	if got != "playback.Open playback.Peek playback.(*Service).Sneak" {
		t.Fatalf("planted reads found: %q", got)
	}
}

// tableOwners names the one package that reads and writes each table of
// the video path.
var tableOwners = map[string]string{"access_records": "policy", "segments": "record"}

// TestOneOwnerPerTable: no package but the owner queries the access
// registry or the segment index (the playback reuse window is the gate's;
// the retention engine asks record to expire segments). // ACC-3, RET-4
func TestOneOwnerPerTable(t *testing.T) {
	root := filepath.Join("..")
	var bad []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pkg := strings.Split(filepath.ToSlash(rel), "/")[0]
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for table, owner := range tableOwners {
			if pkg != owner && sqlTouches(string(b), table) {
				bad = append(bad, filepath.ToSlash(rel)+" queries "+table+" (owned by "+owner+")")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("tables queried outside their owner:\n%s", strings.Join(bad, "\n"))
	}
	if !sqlTouches("x := `SELECT id FROM access_records WHERE`", "access_records") || !sqlTouches("`UPDATE segments SET deleted_at = ?`", "segments") {
		t.Fatal("the check misses planted queries")
	}
}

// sqlTouches reports whether src holds SQL naming table after FROM, INTO,
// UPDATE or JOIN.
func sqlTouches(src, table string) bool {
	f := strings.Fields(strings.NewReplacer("`", " ", "\"", " ", "(", " ", ",", " ").Replace(src))
	for i := 1; i < len(f); i++ {
		if f[i] != table {
			continue
		}
		switch strings.ToUpper(f[i-1]) {
		case "FROM", "INTO", "UPDATE", "JOIN":
			return true
		}
	}
	return false
}
