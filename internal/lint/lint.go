package lint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Names of the rules, as they appear in a Violation.
const (
	RuleImports   = "import-direction"
	RuleConfined  = "confined-dependency"
	RuleDoc       = "package-doc"
	RuleSleep     = "no-sleep-in-tests"
	RuleExit      = "no-exit-outside-cmd"
	RuleGofmt     = "gofmt"
	invariantMark = "invariant:"
)

// ErrNoModule is returned when the tree has no go.mod with a module line.
var ErrNoModule = errors.New("lint: no module line in go.mod")

// Violation is one broken rule at one place.
type Violation struct {
	Rule string
	File string // slash-separated, relative to the tree's root
	Line int
	Msg  string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: [%s] %s", v.File, v.Line, v.Rule, v.Msg)
}

// Layering returns, for each top-level folder of the design, the other
// top-level folders whose packages its packages may import. A folder may
// always import its own packages. A top-level folder holding Go code must
// be listed here.
func Layering() map[string][]string {
	return map[string][]string{
		"ring":     {},
		"objectd":  {"ring", "internal"},
		"blockd":   {"objectd", "ring", "internal"},
		"proxy":    {"objectd", "ring", "internal"},
		"computed": {"internal"},
		"netd":     {"internal"},
		"internal": {},
		"bench":    {"internal"},
		// The binaries wire everything, the operator's benchmark included:
		// "nothing imports bench" holds for every library package.
		"cmd": {"ring", "objectd", "blockd", "proxy", "computed", "netd", "bench", "internal"},
	}
}

// Confined returns, for import path prefixes of outside modules, the only
// top-level folder whose packages may import them.
func Confined() map[string]string {
	return map[string]string{
		"github.com/gin-gonic/gin":         "proxy",
		"github.com/hashicorp/raft":        "ring",
		"github.com/hashicorp/raft-boltdb": "ring",
		"libvirt.org/go/libvirt":           "computed",
	}
}

type file struct {
	path   string // slash path in the tree
	dir    string
	isTest bool
	src    []byte
	fset   *token.FileSet
	ast    *ast.File
}

// Check parses every .go file of fsys (skipping testdata, vendor and
// folders starting with "." or "_", as the go tool does) and returns the
// violations of the house rules, sorted by file and line.
func Check(fsys fs.FS) ([]Violation, error) {
	module, err := modulePath(fsys)
	if err != nil {
		return nil, err
	}
	files, vs, err := parseTree(fsys)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		vs = append(vs, checkImports(f, module)...)
		vs = append(vs, checkSleep(f)...)
		vs = append(vs, checkExit(f)...)
		vs = append(vs, checkGofmt(f)...)
	}
	vs = append(vs, checkDocs(files)...)
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].File != vs[j].File {
			return vs[i].File < vs[j].File
		}
		if vs[i].Line != vs[j].Line {
			return vs[i].Line < vs[j].Line
		}
		return vs[i].Rule < vs[j].Rule
	})
	return vs, nil
}

func modulePath(fsys fs.FS) (string, error) {
	data, err := fs.ReadFile(fsys, "go.mod")
	if err != nil {
		return "", fmt.Errorf("lint: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			m := strings.Trim(strings.TrimSpace(rest), `"`)
			if m != "" {
				return m, nil
			}
		}
	}
	return "", ErrNoModule
}

func parseTree(fsys fs.FS) ([]*file, []Violation, error) {
	var files []*file
	var vs []Violation
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		af, perr := parser.ParseFile(fset, p, src, parser.ParseComments)
		if perr != nil {
			vs = append(vs, Violation{Rule: RuleGofmt, File: p, Line: 1, Msg: "does not parse: " + perr.Error()})
			return nil
		}
		files = append(files, &file{
			path:   p,
			dir:    path.Dir(p),
			isTest: strings.HasSuffix(name, "_test.go"),
			src:    src,
			fset:   fset,
			ast:    af,
		})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("lint: walk: %w", err)
	}
	return files, vs, nil
}

func (f *file) line(pos token.Pos) int { return f.fset.Position(pos).Line }

// topLevel is the first element of a slash path ("" for the root).
func topLevel(p string) string {
	if p == "." || p == "" {
		return ""
	}
	top, _, _ := strings.Cut(p, "/")
	return top
}

func checkImports(f *file, module string) []Violation {
	var vs []Violation
	layering := Layering()
	src := topLevel(f.dir)
	allowed, known := layering[src]
	for _, imp := range f.ast.Imports {
		ip, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		ln := f.line(imp.Pos())
		for prefix, owner := range Confined() {
			if (ip == prefix || strings.HasPrefix(ip, prefix+"/")) && src != owner {
				vs = append(vs, Violation{RuleConfined, f.path, ln,
					fmt.Sprintf("%s may be imported only under %s/", ip, owner)})
			}
		}
		if ip != module && !strings.HasPrefix(ip, module+"/") {
			continue
		}
		dst := topLevel(strings.TrimPrefix(strings.TrimPrefix(ip, module), "/"))
		switch {
		case !known:
			vs = append(vs, Violation{RuleImports, f.path, ln,
				fmt.Sprintf("folder %q is not a top-level folder of the design (add it to lint.Layering)", src)})
		case dst == src:
		case dst == "cmd" || (dst == "bench" && src != "cmd"):
			vs = append(vs, Violation{RuleImports, f.path, ln,
				fmt.Sprintf("nothing imports %s/: %s imports %s", dst, src, ip)})
		case !contains(allowed, dst):
			vs = append(vs, Violation{RuleImports, f.path, ln,
				fmt.Sprintf("%s/ may not import %s/ (allowed: %s): %s", src, dst, list(allowed), ip)})
		}
	}
	return vs
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// importName returns the name under which f imports path, or "" when it
// does not.
func importName(f *ast.File, ip string) string {
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil || p != ip {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return path.Base(ip)
	}
	return ""
}

// selectorCalls visits every call to pkg.fn (for pkg imported from importPath)
// in f.
func selectorCalls(f *file, importPath string, fns map[string]bool, visit func(call *ast.CallExpr, fn string)) {
	name := importName(f.ast, importPath)
	if name == "" || name == "_" {
		return
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if ok && x.Name == name && fns[sel.Sel.Name] {
			visit(call, sel.Sel.Name)
		}
		return true
	})
}

func checkSleep(f *file) []Violation {
	if !f.isTest {
		return nil
	}
	var vs []Violation
	selectorCalls(f, "time", map[string]bool{"Sleep": true}, func(call *ast.CallExpr, _ string) {
		vs = append(vs, Violation{RuleSleep, f.path, f.line(call.Pos()),
			"time.Sleep in a test: wait on an event, or inject time"})
	})
	return vs
}

func checkExit(f *file) []Violation {
	if f.isTest || topLevel(f.dir) == "cmd" {
		return nil
	}
	var vs []Violation
	selectorCalls(f, "os", map[string]bool{"Exit": true}, func(call *ast.CallExpr, fn string) {
		vs = append(vs, Violation{RuleExit, f.path, f.line(call.Pos()),
			"os.Exit outside cmd/: return an error"})
	})
	logFns := map[string]bool{"Fatal": true, "Fatalf": true, "Fatalln": true, "Panic": true, "Panicf": true, "Panicln": true}
	selectorCalls(f, "log", logFns, func(call *ast.CallExpr, fn string) {
		vs = append(vs, Violation{RuleExit, f.path, f.line(call.Pos()),
			"log." + fn + " outside cmd/: return an error"})
	})
	invariantLines := make(map[int]bool)
	for _, cg := range f.ast.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, invariantMark) {
				invariantLines[f.line(c.Pos())] = true
			}
		}
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok || id.Name != "panic" {
			return true
		}
		ln := f.line(call.Pos())
		if !invariantLines[ln] {
			vs = append(vs, Violation{RuleExit, f.path, ln,
				"panic outside cmd/ and tests: return an error, or mark a true invariant with `// invariant: why` on the same line"})
		}
		return true
	})
	return vs
}

func checkGofmt(f *file) []Violation {
	out, err := format.Source(f.src)
	if err != nil {
		return []Violation{{RuleGofmt, f.path, 1, "gofmt: " + err.Error()}}
	}
	if !bytes.Equal(out, f.src) {
		return []Violation{{RuleGofmt, f.path, 1, "not gofmt-formatted: run gofmt -w"}}
	}
	return nil
}

// checkDocs reports every package (folder with non-test Go files) none of
// whose non-test files has a package doc comment.
func checkDocs(files []*file) []Violation {
	type pkg struct {
		first  string
		name   string
		hasDoc bool
	}
	pkgs := make(map[string]*pkg)
	var order []string
	for _, f := range files {
		if f.isTest {
			continue
		}
		p := pkgs[f.dir]
		if p == nil {
			p = &pkg{first: f.path, name: f.ast.Name.Name}
			pkgs[f.dir] = p
			order = append(order, f.dir)
		}
		if f.ast.Doc != nil && strings.TrimSpace(f.ast.Doc.Text()) != "" {
			p.hasDoc = true
		}
	}
	var vs []Violation
	for _, dir := range order {
		p := pkgs[dir]
		if !p.hasDoc {
			vs = append(vs, Violation{RuleDoc, p.first, 1,
				fmt.Sprintf("package %s in %s/ has no package doc comment (put one in %s/doc.go)", p.name, dir, dir)})
		}
	}
	return vs
}
