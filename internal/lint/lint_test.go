package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

const gomod = "module example.com/basalt\n\ngo 1.26\n"

// tree builds an in-memory module from path -> source.
func tree(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{"go.mod": {Data: []byte(gomod)}}
	for p, src := range files {
		m[p] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

func check(t *testing.T, files map[string]string) []Violation {
	t.Helper()
	vs, err := Check(tree(files))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// expect asserts that vs holds exactly one violation, of rule, in file.
func expect(t *testing.T, vs []Violation, rule, file string) {
	t.Helper()
	if len(vs) != 1 || vs[0].Rule != rule || vs[0].File != file {
		t.Fatalf("want one %s violation in %s, got %d: %v", rule, file, len(vs), vs)
	}
}

func expectNone(t *testing.T, vs []Violation) {
	t.Helper()
	if len(vs) != 0 {
		t.Fatalf("want no violation, got %v", vs)
	}
}

// pkgSrc is a well-formed package importing imps.
func pkgSrc(name string, imps ...string) string {
	var b strings.Builder
	b.WriteString("// Package " + name + " is an example.\npackage " + name + "\n")
	if len(imps) > 0 {
		b.WriteString("\nimport (\n")
		for _, ip := range imps {
			b.WriteString("\t_ \"" + ip + "\"\n")
		}
		b.WriteString(")\n")
	}
	return b.String()
}

func TestImportDirection(t *testing.T) {
	const m = "example.com/basalt/"
	bad := []struct{ from, imp string }{
		{"ring/a.go", m + "objectd"},
		{"ring/a.go", m + "internal/vfs"},
		{"objectd/a.go", m + "proxy"},
		{"objectd/a.go", m + "blockd"},
		{"blockd/a.go", m + "proxy"},
		{"proxy/s3/a.go", m + "blockd"},
		{"computed/a.go", m + "objectd"},
		{"computed/a.go", m + "ring"},
		{"netd/a.go", m + "blockd"},
		{"internal/x/a.go", m + "objectd"},
		{"bench/a.go", m + "proxy"},
		{"proxy/a.go", m + "cmd/internal/server"},
		{"proxy/a.go", m + "bench"},
		{"objectd/a_test.go", m + "proxy"},
		{"tools/a.go", m + "ring"}, // not a folder of the design
	}
	for _, tc := range bad {
		t.Run(tc.from+"->"+tc.imp, func(t *testing.T) {
			name := filepath.Base(filepath.Dir(tc.from))
			vs := check(t, map[string]string{tc.from: pkgSrc(name, tc.imp)})
			if strings.HasSuffix(tc.from, "_test.go") {
				// A test file alone leaves its package without a doc file;
				// only the import matters here.
				vs = only(vs, RuleImports)
			}
			expect(t, vs, RuleImports, tc.from)
		})
	}

	good := []struct{ from, imp string }{
		{"cmd/basalt/a.go", m + "bench"},
		{"ring/a.go", m + "ring/raftmap"},
		{"objectd/a.go", m + "ring"},
		{"objectd/a.go", m + "internal/vfs"},
		{"blockd/a.go", m + "objectd"},
		{"proxy/a.go", m + "objectd"},
		{"proxy/a.go", m + "internal/vfs"},
		{"computed/a.go", m + "internal/x"},
		{"bench/a.go", m + "internal/x"},
		{"cmd/basalt/a.go", m + "proxy"},
		{"cmd/basalt/a.go", m + "cmd/internal/server"},
		{"objectd/a.go", "example.com/basaltother/x"}, // another module, same prefix
	}
	for _, tc := range good {
		t.Run("ok "+tc.from+"->"+tc.imp, func(t *testing.T) {
			name := filepath.Base(filepath.Dir(tc.from))
			expectNone(t, check(t, map[string]string{tc.from: pkgSrc(name, tc.imp)}))
		})
	}
}

func only(vs []Violation, rule string) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Rule == rule {
			out = append(out, v)
		}
	}
	return out
}

func TestConfinedDependencies(t *testing.T) {
	bad := []struct{ from, imp string }{
		{"objectd/a.go", "github.com/gin-gonic/gin"},
		{"cmd/basalt/a.go", "github.com/gin-gonic/gin/binding"},
		{"objectd/a.go", "github.com/hashicorp/raft"},
		{"proxy/a.go", "github.com/hashicorp/raft-boltdb"},
		{"netd/a.go", "libvirt.org/go/libvirt"},
	}
	for _, tc := range bad {
		name := filepath.Base(filepath.Dir(tc.from))
		expect(t, check(t, map[string]string{tc.from: pkgSrc(name, tc.imp)}), RuleConfined, tc.from)
	}
	for _, tc := range []struct{ from, imp string }{
		{"proxy/s3/a.go", "github.com/gin-gonic/gin"},
		{"ring/raftstore/a.go", "github.com/hashicorp/raft"},
		{"computed/libvirt/a.go", "libvirt.org/go/libvirt"},
		{"objectd/a.go", "github.com/gin-gonic/ginx"}, // only the prefix as a path element counts
	} {
		name := filepath.Base(filepath.Dir(tc.from))
		expectNone(t, check(t, map[string]string{tc.from: pkgSrc(name, tc.imp)}))
	}
}

func TestPackageDoc(t *testing.T) {
	vs := check(t, map[string]string{
		"objectd/a.go":        "package objectd\n",
		"objectd/b.go":        "package objectd\n\n// Not a package comment.\nfunc F() {}\n",
		"objectd/doc_test.go": "// Package objectd tests do not count.\npackage objectd\n",
	})
	expect(t, vs, RuleDoc, "objectd/a.go")

	// One file with the comment is enough; test-only folders need none.
	expectNone(t, check(t, map[string]string{
		"objectd/a.go":      "package objectd\n",
		"objectd/doc.go":    "// Package objectd stores objects.\npackage objectd\n",
		"cmd/e2e/x_test.go": "package e2e_test\n",
	}))

	// A detached comment above the package clause is not a doc comment.
	vs = check(t, map[string]string{"ring/doc.go": "// Package ring places data.\n\npackage ring\n"})
	expect(t, vs, RuleDoc, "ring/doc.go")
}

func TestNoSleepInTests(t *testing.T) {
	const bad = `package objectd

import (
	"testing"
	"time"
)

func TestX(t *testing.T) {
	time.Sleep(time.Millisecond)
}
`
	vs := check(t, map[string]string{"objectd/doc.go": pkgSrc("objectd"), "objectd/x_test.go": bad})
	expect(t, vs, RuleSleep, "objectd/x_test.go")
	if vs[0].Line != 9 {
		t.Errorf("line = %d, want 9", vs[0].Line)
	}

	const renamed = `package objectd

import (
	"testing"
	tm "time"
)

func TestX(t *testing.T) { tm.Sleep(1) }
`
	vs = check(t, map[string]string{"objectd/doc.go": pkgSrc("objectd"), "objectd/x_test.go": renamed})
	expect(t, vs, RuleSleep, "objectd/x_test.go")

	// Sleep in non-test code, and other time functions in tests, are not
	// this rule's business.
	const fine = `package objectd

import (
	"testing"
	"time"
)

func TestX(t *testing.T) { <-time.After(time.Millisecond) }
`
	const code = "// Package objectd is an example.\npackage objectd\n\nimport \"time\"\n\nfunc wait() { time.Sleep(1) }\n"
	expectNone(t, check(t, map[string]string{"objectd/doc.go": code, "objectd/x_test.go": fine}))
}

func TestNoExitOutsideCmd(t *testing.T) {
	cases := map[string]string{
		"os.Exit":                   "import \"os\"\n\nfunc f() { os.Exit(1) }\n",
		"log.Fatal":                 "import \"log\"\n\nfunc f() { log.Fatal(\"x\") }\n",
		"log.Fatalf":                "import \"log\"\n\nfunc f() { log.Fatalf(\"x\") }\n",
		"log.Panicln":               "import \"log\"\n\nfunc f() { log.Panicln(\"x\") }\n",
		"renamed os":                "import sys \"os\"\n\nfunc f() { sys.Exit(1) }\n",
		"panic":                     "func f() { panic(\"x\") }\n",
		"panic with other comment":  "func f() { panic(\"x\") } // unreachable\n",
		"invariant on another line": "// invariant: n is positive\nfunc f() { panic(\"x\") }\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			src := "// Package objectd is an example.\npackage objectd\n\n" + body
			expect(t, check(t, map[string]string{"objectd/a.go": src}), RuleExit, "objectd/a.go")
		})
	}

	allowed := map[string]string{
		"cmd/basalt/main.go": "// Command basalt.\npackage main\n\nimport \"os\"\n\nfunc main() { os.Exit(2) }\n",
		"cmd/basalt/p.go":    "package main\n\nfunc f() { panic(1) }\n",
		"objectd/doc.go":     "// Package objectd is an example.\npackage objectd\n",
		"objectd/a_test.go":  "package objectd\n\nimport \"os\"\n\nfunc g() { os.Exit(1); panic(1) }\n",
		"objectd/inv.go":     "package objectd\n\nfunc f(n int) {\n\tif n < 0 {\n\t\tpanic(\"negative\") // invariant: callers check n\n\t}\n}\n",
		"objectd/meth.go":    "package objectd\n\ntype l struct{}\n\nfunc (l) Fatal() {}\n\nfunc h() { var log l; log.Fatal() }\n",
	}
	expectNone(t, check(t, allowed))
}

func TestGofmt(t *testing.T) {
	vs := check(t, map[string]string{"ring/doc.go": "// Package ring places data.\npackage ring\nfunc  f( ) {}\n"})
	expect(t, vs, RuleGofmt, "ring/doc.go")
	vs = check(t, map[string]string{"ring/doc.go": "// Package ring places data.\npackage ring\nfunc {\n"})
	expect(t, vs, RuleGofmt, "ring/doc.go")
}

func TestSkipsTestdataAndHidden(t *testing.T) {
	expectNone(t, check(t, map[string]string{
		"objectd/doc.go":          pkgSrc("objectd"),
		"objectd/testdata/bad.go": "package bad\nfunc  f() { panic(1) }\n",
		".hidden/x.go":            "package x\n",
		"objectd/_scratch/x.go":   "package x\n",
		"objectd/vendor/v/x.go":   "package v\n",
	}))
}

func TestNoModule(t *testing.T) {
	if _, err := Check(fstest.MapFS{"go.mod": {Data: []byte("go 1.26\n")}}); err == nil {
		t.Fatal("Check accepted a go.mod without a module line")
	}
	if _, err := Check(fstest.MapFS{}); err == nil {
		t.Fatal("Check accepted a tree without go.mod")
	}
}

// TestRepository holds the real source tree to the house rules.
func TestRepository(t *testing.T) {
	root := moduleRoot(t)
	vs, err := Check(os.DirFS(root))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
