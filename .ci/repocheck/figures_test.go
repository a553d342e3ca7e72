package repocheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// TestFigureFuncs checks that FigureFuncs lists exactly the figure-showing functions
// of the project's pkg/plots.
func TestFigureFuncs(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := PlotsFigureFuncs(os.DirFS(filepath.Join(root, "pkg", "plots")))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, FigureFuncs) {
		t.Errorf("pkg/plots shows figures with %q, but FigureFuncs is %q: update FigureFuncs in figures.go", got, FigureFuncs)
	}
}

func TestPlotsFigureFuncs(t *testing.T) {
	src := `package plots
type Figure struct{}
func Show(f *Figure) error { return nil }
func Tile(cols int, figs ...*Figure) (*Figure, error) { return nil, nil }
func Scale(f *Figure) *Figure { return f }
func (f *Figure) Save(path string) error { return nil }
func show(f *Figure) {}
func Put(id string, f *Figure, err error) {}
func DisplayTable(rows [][]string) {}
func Pick(options []string, draw func(i int) (*Figure, error)) error { return nil }
func Each(visit func(f *Figure)) {}
`
	dir := fstest.MapFS{
		"plots.go":      {Data: []byte(src)},
		"plots_test.go": {Data: []byte("package plots\nfunc ShowTest(f *Figure) {}\n")},
	}
	got, err := PlotsFigureFuncs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Pick", "Put", "Show"}; !slices.Equal(got, want) {
		t.Errorf("PlotsFigureFuncs = %q, want %q", got, want)
	}
	if _, err := PlotsFigureFuncs(fstest.MapFS{"bad.go": {Data: []byte("package plots\nfunc (")}}); err == nil {
		t.Error("unparsable source: want an error")
	}
}

func TestIsFigureCell(t *testing.T) {
	cases := []struct {
		source string
		tags   []string
		want   bool
	}{
		{"plots.Display(f)", nil, true},
		{"%%\nerr = plots.DisplayChart(plots.Lines(c))", nil, true},
		{"plots.DisplayUpdatable (\"id\", f)", nil, true},
		{"plots.ShowTable(\"t\", h, rows)", nil, false},
		{"plots.DisplayTable(rows)", nil, false}, // not a figure helper: any name is fine
		{"myplots.Display(f)", nil, false},
		{"show()", []string{"figure"}, true},
	}
	for _, c := range cases {
		cell := Cell{CellType: "code", Source: MultiString(c.source), Metadata: CellMetadata{Tags: c.tags}}
		if got := cell.IsFigureCell(); got != c.want {
			t.Errorf("IsFigureCell(%q, tags %q) = %v, want %v", c.source, c.tags, got, c.want)
		}
	}
	md := Cell{CellType: "markdown", Source: "plots.Display(f)"}
	if md.IsFigureCell() {
		t.Error("a markdown cell is never a figure cell")
	}
}
