package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a line chart, e.g. the AUROC of one class over epochs.
// Points with a NaN or infinite coordinate are skipped (the line is broken there).
type Series struct {
	Name string    // legend entry
	X, Y []float64 // same length
	// Color, if set, is the series' colour (to keep one colour per
	// strategy, model or class across a notebook's panels); nil takes the
	// next colour of Palette10.
	Color color.Color
	// Marker, if set, is the shape of the series' markers (one of Glyphs,
	// to keep it with the colour); nil takes the next of Glyphs.
	Marker draw.GlyphDrawer
	// Dashed draws the line dashed (e.g. another budget's runs drawn over
	// the shipped ones in the same colour); otherwise series beyond the
	// palette's ten colours are dashed.
	Dashed bool
}

// LineChart describes a line plot with one line per Series.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// YMin, YMax fix the Y range when YMin < YMax (e.g. 0..1 for AUROC);
	// otherwise the range follows the data.
	YMin, YMax float64
	// LogY draws the Y axis on a log₁₀ scale, for values that span orders of
	// magnitude (all must be > 0).
	LogY bool
	// Points also draws a marker at every point (useful with few epochs).
	Points bool
	// LegendInside draws the legend inside the data area (top right, or where
	// LegendLeft/LegendBottom say) instead of in a column right of the plot.
	LegendInside, LegendLeft, LegendBottom bool
	// Width, Height of the figure (zero → DefaultWidth, DefaultHeight).
	Width, Height vg.Length
}

// Palette10 is the categorical colour cycle (matplotlib's "tab10"), used for one
// line per class.
var Palette10 = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
	color.RGBA{0xbc, 0xbd, 0x22, 0xff}, color.RGBA{0x17, 0xbe, 0xcf, 0xff},
}

// Glyphs are the marker shapes, one per series in turn, so that a line
// hidden under another still shows its markers.
var Glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}

// Lines draws a line chart. It returns an error when there is no series, when a
// series' X and Y lengths differ, or when no series has a finite point.
func Lines(c LineChart) (*Figure, error) {
	if len(c.Series) == 0 {
		return nil, errors.New("plots: Lines: no series")
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = !c.LegendBottom
	p.Legend.Left = c.LegendLeft
	finite, named := 0, 0
	allIntX := true
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: Lines: series %q has %d x values but %d y values", s.Name, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, 0, len(s.X))
		for j := range s.X {
			if !isFinite(s.X[j]) || !isFinite(s.Y[j]) {
				continue
			}
			if c.LogY && s.Y[j] <= 0 {
				return nil, fmt.Errorf("plots: Lines: series %q has y = %v at x = %v; LogY needs values > 0", s.Name, s.Y[j], s.X[j])
			}
			xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
			if s.X[j] != math.Trunc(s.X[j]) {
				allIntX = false
			}
		}
		if len(xys) == 0 {
			continue
		}
		finite += len(xys)
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: Lines: series %q: %w", s.Name, err)
		}
		col := Palette10[i%len(Palette10)]
		if s.Color != nil {
			col = s.Color
		}
		l.LineStyle.Color = col
		l.LineStyle.Width = vg.Points(1.5)
		l.LineStyle.Dashes = dashes[(i/len(Palette10))%len(dashes)]
		if s.Dashed {
			l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		var thumbs []plot.Thumbnailer = []plot.Thumbnailer{l}
		if c.Points || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("plots: Lines: series %q: %w", s.Name, err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = Glyphs[i%len(Glyphs)]
			if s.Marker != nil {
				sc.GlyphStyle.Shape = s.Marker
			}
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if s.Name != "" {
			named++
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	if finite == 0 {
		return nil, errors.New("plots: Lines: no finite data point in any series")
	}
	if c.YMin < c.YMax {
		p.Y.Min, p.Y.Max = c.YMin, c.YMax
	}
	p.X.Tick.Marker = roundTicks{whole: allIntX}
	p.Y.Tick.Marker = roundTicks{}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = decadeTicks{}
	}
	f := FromPlot(p, c.Width, c.Height)
	if c.LegendInside || named == 0 {
		return f, nil
	}
	// Legend in its own column on the right, top-aligned with the data area.
	leg := p.Legend
	p.Legend = plot.NewLegend()
	leg.Top, leg.Left = true, true
	var legW vg.Length
	for _, s := range c.Series {
		legW = max(legW, leg.TextStyle.Width(s.Name))
	}
	legW += leg.ThumbnailWidth + 2*leg.Padding + 0.3*vg.Centimeter
	f.Width += legW
	f.draw = func(dc draw.Canvas) {
		main := draw.Crop(dc, 0, -legW, 0, 0)
		p.Draw(main)
		da := p.DataCanvas(main)
		lc := draw.Crop(dc, dc.Max.X-dc.Min.X-legW, 0, 0, 0)
		lc.Max.Y = da.Max.Y
		leg.Draw(lc)
	}
	return f, nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// roundTicks label an axis at a round step, 1, 2 or 5 times a power of ten,
// the smallest giving at most maxLabels labels, each written with the
// step's decimals: AUROC from 0.6 to 0.99 reads 0.6, 0.7, 0.8, 0.9 and from
// 0.91 to 0.99 reads 0.92, 0.94, 0.96, 0.98 (gonum's default ticks can put two
// labels on an axis, or steps such as 0.06). Unlabelled ticks mark the step's
// fifths (halves for steps of 2, 20, 0.02, …).
//
// With whole set the axis counts (epochs): steps and ticks are whole
// numbers, so 1…100 reads 20, 40, …, 100 and 1…20 reads 5, 10, 15, 20.
type roundTicks struct{ whole bool }

// maxLabels is the most labels roundTicks puts on an axis.
const maxLabels = 6

func (r roundTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	if lo == hi && !r.whole {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	// step = lead × 10^exp, from the power of ten below a sixth of the range
	// up, until at most maxLabels multiples of it fall in [lo, hi].
	const eps = 1e-9 // for multiples that floating point puts just outside
	exp := math.Floor(math.Log10((hi - lo) / maxLabels))
	if r.whole { // lo == hi (exp −Inf) lands here: a non-whole one returned above
		exp = max(exp, 0)
	}
	leads := []float64{1, 2, 5}
	i := 0
	step := func() float64 { return leads[i] * math.Pow(10, exp) }
	for math.Floor(hi/step()+eps)-math.Ceil(lo/step()-eps)+1 > maxLabels {
		if i++; i == len(leads) {
			i, exp = 0, exp+1
		}
	}
	per := 5 // minor ticks per step
	if leads[i] == 2 {
		per = 2
	}
	minor := step() / float64(per)
	if r.whole && minor < 1 {
		minor, per = 1, int(step())
	}
	decimals := max(0, int(-exp))
	var out []plot.Tick
	for n := math.Ceil(lo/minor - eps); n <= math.Floor(hi/minor+eps); n++ {
		v := n * minor
		if v == 0 {
			v = 0 // +0: a -0 would read "-0"
		}
		t := plot.Tick{Value: v}
		if int64(n)%int64(per) == 0 {
			t.Label = strconv.FormatFloat(v, 'f', decimals, 64)
		}
		out = append(out, t)
	}
	return out
}

// decadeTicks marks a log axis at powers of ten, labelled ("1e-04"), and at
// 2…9 times each, labelled at 2 and 5 when the axis spans under two decades
// and left out when it spans over four. inLog says the axis holds log₁₀
// values (a colour bar) rather than values on a log scale (plot.LogScale).
type decadeTicks struct{ inLog bool }

func (t decadeTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := min, max
	if !t.inLog {
		lo, hi = math.Log10(min), math.Log10(max)
	}
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= hi; e++ {
		for m := 1.0; m < 10; m++ {
			v := e + math.Log10(m)
			if v < lo || v > hi || (m > 1 && hi-lo > 4) {
				continue
			}
			tk := plot.Tick{Value: v}
			if !t.inLog {
				tk.Value = m * math.Pow(10, e)
			}
			if m == 1 || (hi-lo < 2 && (m == 2 || m == 5)) {
				tk.Label = fmt.Sprintf("%.0e", m*math.Pow(10, e))
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}
