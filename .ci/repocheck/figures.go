package repocheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"regexp"
	"slices"
	"strings"
)

// FigureFuncs are the functions of the project's pkg/plots that show a figure in the
// notebook: a cell calling one of them (plots.Display(...), ...) is a figure cell.
// TestFigureFuncs checks the list against pkg/plots's source with [PlotsFigureFuncs],
// so pkg/plots may name its other helpers as it likes.
var FigureFuncs = []string{"Display", "DisplayChart", "DisplayPicker", "DisplaySVG", "DisplayUpdatable"}

// figureCall matches a call of one of [FigureFuncs] through the package name plots.
var figureCall = regexp.MustCompile(`\bplots\.(` + strings.Join(FigureFuncs, "|") + `)\s*\(`)

// PlotsFigureFuncs lists, sorted, the functions of the Go package in dir (pkg/plots)
// that show a figure: exported functions (not methods) that take a *Figure parameter
// and return no *Figure (so constructors such as Tile(cols, figs ...*Figure) are not
// counted). Test files are skipped.
func PlotsFigureFuncs(dir fs.FS) ([]string, error) {
	files, err := fs.Glob(dir, "*.go")
	if err != nil {
		return nil, fmt.Errorf("repocheck: listing the plots package: %w", err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := fs.ReadFile(dir, name)
		if err != nil {
			return nil, fmt.Errorf("repocheck: reading %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("repocheck: parsing %s: %w", name, err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() {
				continue
			}
			if hasFigure(fn.Type.Params) && !hasFigure(fn.Type.Results) {
				names = append(names, fn.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// hasFigure reports whether fields (parameters or results) hold a *Figure,
// or a function returning one (a figure drawn on demand, as DisplayPicker's).
func hasFigure(fields *ast.FieldList) bool {
	if fields == nil {
		return false
	}
	for _, f := range fields.List {
		switch t := f.Type.(type) {
		case *ast.StarExpr:
			if id, ok := t.X.(*ast.Ident); ok && id.Name == "Figure" {
				return true
			}
		case *ast.FuncType:
			if hasFigure(t.Results) {
				return true
			}
		}
	}
	return false
}
