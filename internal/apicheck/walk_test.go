package apicheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"testing"
)

// importerMap imports the packages type-checked so far.
type importerMap map[string]*types.Package

func (m importerMap) Import(path string) (*types.Package, error) {
	if p, ok := m[path]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no package %q", path)
}

func check(t *testing.T, imp importerMap, path, src string) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path+".go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := (&types.Config{Importer: imp}).Check(path, fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	imp[path] = pkg
	return pkg
}

// The walk finds an internal type wherever an exported declaration shows
// it, and only there: not in unexported fields, unexported methods or
// unexported declarations, nor behind a public type that wraps it.
func TestPackageLeaksFindsEveryShowingPlace(t *testing.T) {
	imp := importerMap{}
	check(t, imp, "m/internal/x", `package x
type T int
func (T) M() {}
type Embed struct{}
func (Embed) Promoted() T { return 0 }
`)
	pkg := check(t, imp, "m/p", `package p
import "m/internal/x"
type Alias = x.T
var Var x.T
const Const x.T = 1
func Func(a int) (map[string][]*x.T, error) { return nil, nil }
type Struct struct {
	Field  chan x.T
	hidden x.T
}
func (Struct) Method(func(x.T)) {}
func (Struct) method(x.T) {}
type Iface interface{ Get() [2]x.T }
type Gen[P any] struct{}
func Inst() Gen[x.T] { return Gen[x.T]{} }
type Wraps struct{ x.Embed }
type Own x.T
func Fine(Own) Own { return 0 }
var unexported x.T
`)
	var got []string
	for _, l := range packageLeaks(pkg) {
		what, _, _ := strings.Cut(strings.TrimPrefix(l, "m/p: "), " shows")
		got = append(got, what)
	}
	slices.Sort(got)
	want := []string{"Const", "Func", "Iface.Get", "Inst", "Struct.Field", "Struct.Method",
		"Var", "Wraps.Embed", "Wraps.Promoted", "type Alias"}
	if !slices.Equal(got, want) {
		t.Errorf("leaks %q\nwant  %q", got, want)
	}
}
