package apicheck

import (
	"bufio"
	"bytes"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/teardown-lab/teardown"

// TestPublicAPIMentionsNoInternalPackage type-checks nothing itself: it
// reads the compiler's export data (go list -export, cached by the build)
// of every public package and walks each exported object's type — funcs,
// vars, consts, the exported fields and methods of exported types — for a
// named type declared in an internal package.
func TestPublicAPIMentionsNoInternalPackage(t *testing.T) {
	exports, public := exportData(t)
	if len(public) == 0 {
		t.Fatal("go list found no public package")
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})
	var leaks []string
	for _, path := range public {
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		leaks = append(leaks, packageLeaks(pkg)...)
	}
	for _, l := range leaks {
		t.Errorf("%s", l)
	}
}

// exportData lists the module's packages and their dependencies with the
// file holding each one's export data, and the public packages: the
// module's importable, non-internal ones.
func exportData(t *testing.T) (map[string]string, []string) {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps",
		"-f", "{{.ImportPath}}\t{{.Export}}\t{{.Name}}\t{{with .Module}}{{.Path}}{{end}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var public []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 {
			t.Fatalf("go list printed %q", sc.Text())
		}
		path, export, name, mod := f[0], f[1], f[2], f[3]
		exports[path] = export
		// A package of test files only (docs/) has no export data and no API.
		if mod == module && name != "main" && export != "" && !isInternal(path) {
			public = append(public, path)
		}
	}
	sort.Strings(public)
	return exports, public
}

// isInternal reports whether path is importable only from inside its
// parent tree (the go command's rule for an "internal" element).
func isInternal(path string) bool {
	return path == "internal" || strings.HasPrefix(path, "internal/") ||
		strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// packageLeaks returns one line per exported object of pkg whose type
// names an internal package's type.
func packageLeaks(pkg *types.Package) []string {
	var out []string
	report := func(what string, t types.Type) {
		if names := internalNames(t, map[types.Type]bool{}); len(names) > 0 {
			out = append(out, pkg.Path()+": "+what+" shows "+strings.Join(names, ", "))
		}
	}
	for _, name := range pkg.Scope().Names() {
		obj := pkg.Scope().Lookup(name)
		if !obj.Exported() {
			continue
		}
		tn, ok := obj.(*types.TypeName)
		if !ok {
			report(name, obj.Type())
			continue
		}
		if tn.IsAlias() {
			report("type "+name, types.Unalias(tn.Type()))
			continue
		}
		switch u := tn.Type().Underlying().(type) {
		case *types.Struct:
			for i := range u.NumFields() {
				if f := u.Field(i); f.Exported() {
					report(name+"."+f.Name(), f.Type())
				}
			}
		case *types.Interface:
			for i := range u.NumMethods() {
				if m := u.Method(i); m.Exported() {
					report(name+"."+m.Name(), m.Type())
				}
			}
		default:
			report("type "+name, u)
		}
		ms := types.NewMethodSet(types.NewPointer(tn.Type()))
		for i := range ms.Len() {
			if m := ms.At(i).Obj(); m.Exported() {
				report(name+"."+m.Name(), m.Type())
			}
		}
	}
	return out
}

// internalNames walks t down to the named types it is built of (not into
// their definitions: a public named type is checked on its own) and
// returns those declared in an internal package.
func internalNames(t types.Type, seen map[types.Type]bool) []string {
	if t == nil || seen[t] {
		return nil
	}
	seen[t] = true
	var out []string
	walk := func(ts ...types.Type) {
		for _, u := range ts {
			out = append(out, internalNames(u, seen)...)
		}
	}
	switch t := t.(type) {
	case *types.Alias:
		walk(types.Unalias(t))
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil && isInternal(p.Path()) {
			out = append(out, p.Path()+"."+t.Obj().Name())
		}
		for i := range t.TypeArgs().Len() {
			walk(t.TypeArgs().At(i))
		}
	case *types.Pointer:
		walk(t.Elem())
	case *types.Slice:
		walk(t.Elem())
	case *types.Array:
		walk(t.Elem())
	case *types.Chan:
		walk(t.Elem())
	case *types.Map:
		walk(t.Key(), t.Elem())
	case *types.Tuple:
		for i := range t.Len() {
			walk(t.At(i).Type())
		}
	case *types.Signature:
		walk(t.Params(), t.Results())
	case *types.Struct:
		for i := range t.NumFields() {
			walk(t.Field(i).Type())
		}
	case *types.Interface:
		for i := range t.NumEmbeddeds() {
			walk(t.EmbeddedType(i))
		}
		for i := range t.NumExplicitMethods() {
			walk(t.ExplicitMethod(i).Type())
		}
	case *types.Union:
		for i := range t.Len() {
			walk(t.Term(i).Type())
		}
	case *types.TypeParam:
		walk(t.Constraint())
	}
	return out
}
