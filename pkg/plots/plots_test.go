package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/results"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/vg"
)

// decode checks that b is a PNG of the figure's size and returns it.
func decode(t *testing.T, f *Figure, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	wantW := int(math.Ceil(f.Width.Dots(DPI)))
	wantH := int(math.Ceil(f.Height.Dots(DPI)))
	if got := img.Bounds(); abs(got.Dx()-wantW) > 1 || abs(got.Dy()-wantH) > 1 {
		t.Fatalf("PNG is %dx%d, want %dx%d", got.Dx(), got.Dy(), wantW, wantH)
	}
	return img
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// mustPNG returns a function that renders a chart constructor's result to PNG
// and decodes it, failing the test on any error.
func mustPNG(t *testing.T) func(f *Figure, err error) image.Image {
	return func(f *Figure, err error) image.Image {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.PNG()
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, f, b)
	}
}

// countColor counts pixels within tol (per 8-bit channel) of c.
func countColor(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-int(c.R)) <= tol && abs(int(g>>8)-int(c.G)) <= tol && abs(int(bl>>8)-int(c.B)) <= tol {
				n++
			}
		}
	}
	return n
}

func TestLines(t *testing.T) {
	series := []Series{
		{Name: "class 0", X: []float64{0, 1, 2, 3}, Y: []float64{0.5, 0.7, 0.8, 0.85}},
		{Name: "class 1", X: []float64{0, 1, 2, 3}, Y: []float64{0.6, math.NaN(), 0.9, 0.95}},
	}
	img := mustPNG(t)(Lines(LineChart{Title: "AUROC per class", XLabel: "epoch", YLabel: "AUROC", Series: series, YMin: 0, YMax: 1, Points: true}))
	// Both line colours are drawn.
	for i := range 2 {
		if n := countColor(img, Palette10[i].(color.RGBA), 10); n < 50 {
			t.Errorf("series %d colour: %d pixels, want ≥ 50", i, n)
		}
	}
	// SVG output is an SVG document with the title text.
	f, _ := Lines(LineChart{Title: "AUROC per class", Series: series})
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("AUROC per class")) {
		t.Errorf("SVG lacks <svg or the title: %.200s", svg)
	}
}

func TestLinesErrors(t *testing.T) {
	for name, c := range map[string]LineChart{
		"no series":  {},
		"ragged":     {Series: []Series{{X: []float64{1, 2}, Y: []float64{1}}}},
		"all NaN":    {Series: []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}},
		"empty line": {Series: []Series{{Name: "empty"}}},
	} {
		if f, err := Lines(c); err == nil {
			t.Errorf("%s: got figure %v, want error", name, f)
		}
	}
}

func TestHeatmap(t *testing.T) {
	vals := [][]float64{{0.5, 1.0}, {0.75, math.NaN()}, {1.0, 0.5}}
	img := mustPNG(t)(Heatmap(HeatmapChart{
		Title: "max AUROC", XLabel: "configuration", YLabel: "class",
		Values: vals, RowLabels: []string{"0", "1", "2"}, ColLabels: []string{"AE", "MemAE"},
		Annotate: true, Min: 0.5, Max: 1, ColorBarLabel: "AUROC",
	}))
	// The lowest and highest cells use the ends of the colour map; the NaN cell is grey.
	cm := moreland.SmoothBlueRed()
	cm.SetMin(0)
	cm.SetMax(1)
	for _, v := range []float64{0, 1} {
		c, _ := cm.At(v)
		r, g, b, _ := c.RGBA()
		want := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
		// Two cells (plus colour bar end) of at least 40x40 px.
		if n := countColor(img, want, 6); n < 2*40*40 {
			t.Errorf("colour for %v (%v): %d pixels, want ≥ %d", v, want, n, 2*40*40)
		}
	}
	if n := countColor(img, color.RGBA{0xd0, 0xd0, 0xd0, 0xff}, 2); n < 40*40 {
		t.Errorf("NaN cell grey: %d pixels, want ≥ 1600", n)
	}
}

func TestHeatmapErrors(t *testing.T) {
	for name, c := range map[string]HeatmapChart{
		"empty":      {},
		"empty row":  {Values: [][]float64{{}}},
		"ragged":     {Values: [][]float64{{1, 2}, {3}}},
		"all NaN":    {Values: [][]float64{{math.NaN()}}},
		"inf":        {Values: [][]float64{{math.Inf(1)}}},
		"row labels": {Values: [][]float64{{1}}, RowLabels: []string{"a", "b"}},
		"col labels": {Values: [][]float64{{1}}, ColLabels: []string{"a", "b"}},
	} {
		if _, err := Heatmap(c); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	// A constant matrix is fine (the colour range is widened).
	mustPNG(t)(Heatmap(HeatmapChart{Values: [][]float64{{0.7, 0.7}}}))
}

func TestMosaicDenormalises(t *testing.T) {
	// Two 2x2 grey images, MNIST-normalised. Pixel p/255 normalises to
	// (p/255 − 0.1307)/0.3081; de-normalising must give back p.
	norm := func(p float64) float32 { return float32((p/255 - 0.1307) / 0.3081) }
	imgs := []float32{norm(0), norm(64), norm(128), norm(255), norm(255), norm(0), norm(10), norm(200)}
	m := Mosaic(imgs, 2, 2, 2, 1, 2, MNISTNorm, false)
	if b := m.Bounds(); b.Dx() != 8 || b.Dy() != 4 {
		t.Fatalf("mosaic is %v, want 8x4 (2 images of 2x2 with 1px borders)", b)
	}
	want := map[[2]int]uint8{{1, 1}: 0, {2, 1}: 64, {1, 2}: 128, {2, 2}: 255, {5, 1}: 255, {6, 1}: 0, {5, 2}: 10, {6, 2}: 200, {0, 0}: 255, {3, 3}: 255}
	for xy, v := range want {
		c := m.RGBAAt(xy[0], xy[1])
		if c.R != v || c.G != v || c.B != v {
			t.Errorf("pixel %v = %v, want grey %d", xy, c, v)
		}
	}
	// CIFAR: (x/255 − 0.5)/0.5 per channel, and per-image stretching.
	rgb := []float32{-1, 0, 1}
	m = Mosaic(rgb, 1, 1, 1, 3, 1, CIFARNorm, false)
	if c := m.RGBAAt(1, 1); c != (color.RGBA{0, 128, 255, 255}) {
		t.Errorf("CIFAR pixel = %v, want {0 128 255 255}", c)
	}
	m = Mosaic([]float32{-3, 5}, 1, 1, 2, 1, 1, Norm{}, true)
	if a, b := m.RGBAAt(1, 1), m.RGBAAt(2, 1); a.R != 0 || b.R != 255 {
		t.Errorf("per-image stretch: %v %v, want 0 and 255", a, b)
	}
}

func TestImageGrid(t *testing.T) {
	const n, h, w = 6, 28, 28
	imgs := make([]float32, n*h*w)
	for i := range imgs {
		imgs[i] = float32((float64(i%w)/w - 0.1307) / 0.3081)
	}
	f, err := ImageGrid(ImageGridChart{Title: "inputs vs reconstructions", Images: imgs, N: n, H: h, W: w, C: 1, Cols: 3, Norm: MNISTNorm, RowLabels: []string{"input", "reconstruction"}, ColLabels: []string{"a", "b", "c"}})
	img := mustPNG(t)(f, err)
	// Near-black pixels (the left edge of each gradient image) exist.
	if n := countColor(img, color.RGBA{0, 0, 0, 255}, 12); n < 6*30 {
		t.Errorf("dark pixels: %d, want ≥ 180", n)
	}
	// A grey figure is encoded as 8-bit grey, pixel for pixel the rendering.
	gray, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("grey image grid decodes to %T, want *image.Gray", img)
	}
	ref, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	for y := ref.Bounds().Min.Y; y < ref.Bounds().Max.Y; y++ {
		for x := ref.Bounds().Min.X; x < ref.Bounds().Max.X; x++ {
			if r, _, _, _ := ref.At(x, y).RGBA(); uint8(r>>8) != gray.GrayAt(x, y).Y {
				t.Fatalf("pixel (%d,%d): grey %d, rendered %d", x, y, gray.GrayAt(x, y).Y, r>>8)
			}
		}
	}
	// A colour figure stays RGBA.
	col, err := ImageGrid(ImageGridChart{Images: slices.Repeat([]float32{1, 0, 0}, 4*4), N: 1, H: 4, W: 4, C: 3})
	if _, ok := mustPNG(t)(col, err).(*image.Gray); ok {
		t.Error("a red image grid was encoded as grey")
	}
	for name, c := range map[string]ImageGridChart{
		"empty":     {},
		"length":    {Images: imgs[:10], N: n, H: h, W: w, C: 1},
		"channels":  {Images: imgs, N: n, H: h, W: w / 2, C: 2},
		"row label": {Images: imgs, N: n, H: h, W: w, C: 1, Cols: 3, RowLabels: []string{"x"}},
	} {
		if _, err := ImageGrid(c); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestBarsAndTile(t *testing.T) {
	w := []float64{0.05, 0.6, 0, 0.35}
	f1, err := Bars(BarChart{Title: "post-shrinkage addressing", XLabel: "memory item", YLabel: "weight", Values: w})
	if err != nil {
		t.Fatal(err)
	}
	img := mustPNG(t)(f1, nil)
	if n := countColor(img, Palette10[0].(color.RGBA), 4); n < 500 {
		t.Errorf("bar pixels: %d, want ≥ 500", n)
	}
	many := make([]float64, 64)
	for i := range many {
		many[i] = math.Sin(float64(i))
	}
	f2, err := Bars(BarChart{Title: "latent", Values: many, Width: 12 * vg.Centimeter})
	if err != nil {
		t.Fatal(err)
	}
	tf, err := Tile(2, f1, f2, f1)
	if err != nil {
		t.Fatal(err)
	}
	if tf.Width != 2*DefaultWidth+tilePad || tf.Height != 2*DefaultHeight+1.5*tilePad {
		t.Errorf("tile size %v x %v, want 2x2 default cells", tf.Width, tf.Height)
	}
	mustPNG(t)(tf, nil)
	for name, c := range map[string]BarChart{
		"empty":  {},
		"NaN":    {Values: []float64{math.NaN()}},
		"labels": {Values: []float64{1}, Labels: []string{"a", "b"}},
	} {
		if _, err := Bars(c); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
	if _, err := Tile(0, f1); err == nil {
		t.Error("Tile(0): want error")
	}
	if _, err := Tile(1); err == nil {
		t.Error("Tile(1) with no figures: want error")
	}
	if _, err := Tile(1, nil); err == nil {
		t.Error("Tile of nil figures: want error")
	}
}

func TestSaveAndDisplayOutsideNotebook(t *testing.T) {
	f, err := Bars(BarChart{Values: []float64{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.png", "a.svg"} {
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() < 500 {
			t.Errorf("%s: %v, %v", name, st, err)
		}
	}
	if err := f.Save(filepath.Join(dir, "a.gif")); err == nil {
		t.Error("Save .gif: want error")
	}
	if InNotebook() {
		t.Skip("running inside a notebook")
	}
	if err := Display(f); err != nil {
		t.Error(err)
	}
	if err := DisplaySVG(f); err != nil {
		t.Error(err)
	}
	var nilFig *Figure
	if err := Display(nilFig); err == nil {
		t.Error("Display(nil): want error")
	}
	if err := DisplayChart(Lines(LineChart{})); err == nil {
		t.Error("Show of a failed chart: want error")
	}
}

func TestHTMLTable(t *testing.T) {
	got := HTMLTable("AUROC <max>", []string{"class", "AE"}, [][]string{{"0", "0.961"}, {"1"}, {"model=memae,model.learning_rate=0.0001", "a<b"}})
	for _, want := range []string{"AUROC &lt;max&gt;", "<th", ">class<", ">0.961<", "<td style=\"padding:2px 8px;text-align:right;white-space:nowrap\"></td>",
		// params wrap after commas only, never inside a number
		`<span style="white-space:nowrap">model=memae,</span><wbr><span style="white-space:nowrap">model.learning_rate=0.0001</span>`,
		`white-space:nowrap">a&lt;b</td>`} {
		if !strings.Contains(got, want) {
			t.Errorf("HTMLTable lacks %q:\n%s", want, got)
		}
	}
	if FormatFloat("%.2f", math.NaN()) != "–" || FormatFloat("%.2f", 0.456) != "0.46" {
		t.Error("FormatFloat")
	}
}

func TestEpochSeriesAndPivot(t *testing.T) {
	rows := []results.Row{
		{Experiment: "b", Params: "default", Seed: 1, Target: "0", Condition: 0, Epoch: 1, AUROC: 0.6},
		{Experiment: "b", Params: "default", Seed: 2, Target: "0", Condition: 0, Epoch: 1, AUROC: 0.8},
		{Experiment: "b", Params: "default", Seed: 1, Target: "0", Condition: 0, Epoch: 2, AUROC: 0.9},
		{Experiment: "b", Params: "default", Seed: 1, Target: "1", Condition: 1, Epoch: 1, AUROC: 0.5},
		{Experiment: "b", Params: "default", Seed: 1, Target: "1", Condition: 1, Epoch: 10, AUROC: math.NaN()},
	}
	s, err := EpochSeries(results.Table{Rows: rows}, results.ByCondition, results.AUROC, func(k string) string { return "class " + k })
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Name != "class 0" || s[1].Name != "class 1" {
		t.Fatalf("series %+v", s)
	}
	if !slices.Equal(s[0].X, []float64{1, 2}) || math.Abs(s[0].Y[0]-0.7) > 1e-12 || s[0].Y[1] != 0.9 {
		t.Errorf("class 0: %+v, want epochs 1,2 with means 0.7, 0.9", s[0])
	}
	if !slices.Equal(s[1].X, []float64{1, 10}) || !math.IsNaN(s[1].Y[1]) {
		t.Errorf("class 1: %+v, want epochs 1,10 (numeric order), NaN at 10", s[1])
	}
	if _, err := EpochSeries(results.Table{}, results.ByCondition, results.AUROC, nil); err == nil {
		t.Error("empty table: want error")
	}
	p, err := results.Table{Rows: rows}.ClassByConfiguration(results.AUROC)
	if err != nil {
		t.Fatal(err)
	}
	header, body := PivotRows(p, "%.2f", true)
	// class 0: best epoch per seed (0.9 seed 1, 0.8 seed 2) → 0.85; class 1: 0.5.
	want := [][]string{{"0", "0.85"}, {"1", "0.50"}, {"mean", "0.68"}}
	if !slices.Equal(header, []string{"", "b/default"}) || len(body) != 3 {
		t.Fatalf("PivotRows: %v %v", header, body)
	}
	for i := range want {
		if !slices.Equal(body[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i, body[i], want[i])
		}
	}
	mustPNG(t)(PivotHeatmap(p, HeatmapChart{Title: "max AUROC", Annotate: true}))
}

func TestResultsRows(t *testing.T) {
	tab := results.Table{Rows: []results.Row{
		{Experiment: "e", Params: "default", Seed: 1, Target: "1-7", Condition: 7, Epoch: 3, TrainLoss: 0.5, AUROC: 0.91234, MeanErrNormal: 0.1, MeanErrAnomalous: 0.2, SelectionAccuracy: math.NaN()},
		{Experiment: "e", Params: "default", Seed: 1, Target: "1-7", Condition: 1, Epoch: 3},
	}}
	header, rows := ResultsRows(tab, 1)
	want := []string{"e", "default", "1", "1-7", "7", "3", "0.5000", "0.9123", "0.1000", "0.2000", "–"}
	if len(header) != 11 || len(rows) != 1 || !slices.Equal(rows[0], want) {
		t.Errorf("ResultsRows = %v %v, want one row %v", header, rows, want)
	}
}

// roundTicks label round multiples, at most maxLabels: whole numbers on epoch
// axes, the step's decimals on value axes.
func TestRoundTicks(t *testing.T) {
	labels := func(r roundTicks, lo, hi float64) string {
		var l []string
		for _, tk := range r.Ticks(lo, hi) {
			if tk.Label != "" {
				l = append(l, tk.Label)
			}
		}
		return strings.Join(l, " ")
	}
	for _, c := range []struct {
		whole  bool
		lo, hi float64
		want   string
		n      int // ticks, labelled or not
	}{
		{true, 1, 100, "20 40 60 80 100", 10}, // minor every 10
		{true, 0, 100, "0 20 40 60 80 100", 11},
		{true, 1, 20, "5 10 15 20", 20}, // every 1
		{true, 1, 5, "1 2 3 4 5", 5},
		{true, 1, 10, "2 4 6 8 10", 10},
		{true, 1, 50, "10 20 30 40 50", 25},
		{true, 3, 3, "3", 1},
		{true, 1, 1000, "200 400 600 800 1000", 10},   // every 100
		{false, 0.6, 0.99, "0.6 0.7 0.8 0.9", 20},     // minor every 0.02
		{false, 0.91, 0.99, "0.92 0.94 0.96 0.98", 9}, // every 0.01
		{false, 0.835, 0.9, "0.84 0.86 0.88 0.90", 7}, // 0.84…0.90 by 0.01 would be 7 labels
		{false, 0, 1, "0.0 0.2 0.4 0.6 0.8 1.0", 11},
		{false, -0.3, 0.3, "-0.2 0.0 0.2", 7},
		{false, 120, 480, "200 300 400", 19}, // step 50 would be 7 labels; minor every 20
		{false, 0.5, 0.5, "0.5", 1},
	} {
		if got := labels(roundTicks{c.whole}, c.lo, c.hi); got != c.want {
			t.Errorf("roundTicks{%v}.Ticks(%v, %v) labels %q, want %q", c.whole, c.lo, c.hi, got, c.want)
		}
		if n := len(roundTicks{c.whole}.Ticks(c.lo, c.hi)); n != c.n {
			t.Errorf("roundTicks{%v}.Ticks(%v, %v): %d ticks, want %d", c.whole, c.lo, c.hi, n, c.n)
		}
	}
	for _, r := range []roundTicks{{true}, {false}} {
		if got := r.Ticks(math.NaN(), 1); got != nil {
			t.Errorf("%v.Ticks(NaN, 1) = %v, want none", r, got)
		}
		if got := r.Ticks(0, math.Inf(1)); got != nil {
			t.Errorf("%v.Ticks(0, +Inf) = %v, want none", r, got)
		}
	}
}

// LogScale colours by log₁₀: over 1e-6…1e-2 the cell of 1e-4 takes the colour
// map's middle, the ends its ends; the colour bar is labelled in powers of ten.
func TestHeatmapLogScale(t *testing.T) {
	img := mustPNG(t)(Heatmap(HeatmapChart{
		Values: [][]float64{{1e-6, 1e-2}, {1e-4, math.NaN()}}, LogScale: true, Annotate: true, Format: "%.0e",
	}))
	cm := moreland.SmoothBlueRed()
	cm.SetMin(-6)
	cm.SetMax(-2)
	for _, v := range []float64{-6, -4, -2} {
		c, _ := cm.At(v)
		r, g, b, _ := c.RGBA()
		want := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
		if n := countColor(img, want, 4); n < 40*40 {
			t.Errorf("colour for 1e%v (%v): %d pixels, want ≥ %d", v, want, n, 40*40)
		}
	}
	// Ticks: powers of ten over many decades; 2× and 5× labelled too over
	// few; on a colour bar at log₁₀ values, on a log axis at the values.
	labels := func(ticks []plot.Tick) (labels []string, values []float64) {
		for _, tk := range ticks {
			if tk.Label != "" {
				labels, values = append(labels, tk.Label), append(values, tk.Value)
			}
		}
		return labels, values
	}
	if got, _ := labels(decadeTicks{inLog: true}.Ticks(-6.2, -1.5)); !slices.Equal(got, []string{"1e-06", "1e-05", "1e-04", "1e-03", "1e-02"}) {
		t.Errorf("labels over 4.7 decades: %q", got)
	}
	few := []string{"5e-05", "1e-04", "2e-04", "5e-04"}
	if got, at := labels(decadeTicks{inLog: true}.Ticks(math.Log10(3e-5), math.Log10(9e-4))); !slices.Equal(got, few) || math.Abs(at[2]-math.Log10(2e-4)) > 1e-12 {
		t.Errorf("colour bar labels over 1.5 decades: %q at %v, want %q", got, at, few)
	}
	if got, at := labels(decadeTicks{}.Ticks(3e-5, 9e-4)); !slices.Equal(got, few) || math.Abs(at[2]-2e-4) > 1e-18 {
		t.Errorf("log axis labels over 1.5 decades: %q at %v, want %q", got, at, few)
	}
	for name, c := range map[string]HeatmapChart{
		"zero":      {Values: [][]float64{{1e-3, 0}}, LogScale: true},
		"negative":  {Values: [][]float64{{-1}}, LogScale: true},
		"range ≤ 0": {Values: [][]float64{{1}}, LogScale: true, Min: 0, Max: 2},
	} {
		if _, err := Heatmap(c); err == nil || !strings.Contains(err.Error(), "LogScale needs") {
			t.Errorf("%s: error %v, want one saying what LogScale needs", name, err)
		}
	}
}

// LogY draws values over orders of magnitude and refuses y ≤ 0.
func TestLinesLogY(t *testing.T) {
	series := []Series{{Name: "class 0", X: []float64{1, 2, 3}, Y: []float64{1e-3, 1e-5, 1e-7}}}
	img := mustPNG(t)(Lines(LineChart{Series: series, LogY: true}))
	if n := countColor(img, Palette10[0].(color.RGBA), 10); n < 50 {
		t.Errorf("line colour: %d pixels, want ≥ 50", n)
	}
	series[0].Y[1] = 0
	if _, err := Lines(LineChart{Series: series, LogY: true}); err == nil || !strings.Contains(err.Error(), `series "class 0" has y = 0 at x = 2; LogY needs values > 0`) {
		t.Errorf("y = 0 on a log axis: %v", err)
	}
}
