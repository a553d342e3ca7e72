package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapChart describes a matrix drawn as coloured cells with a colour bar, e.g.
// the max-over-epochs AUROC per class (rows) and configuration (columns).
type HeatmapChart struct {
	Title, XLabel, YLabel string
	// Values[r][c]: row r (drawn top to bottom), column c. NaN marks a missing
	// cell (drawn grey, annotated "–").
	Values [][]float64
	// RowLabels and ColLabels name the rows and columns (empty → indices).
	RowLabels, ColLabels []string
	// Annotate writes each value in its cell with Format (default "%.3f").
	Annotate bool
	Format   string
	// Min, Max fix the colour scale when Min < Max; otherwise the data range.
	Min, Max float64
	// LogScale colours the cells by the log₁₀ of their values, for values that
	// span orders of magnitude (all must be > 0); annotations still show the
	// values, and the colour bar is labelled in powers of ten.
	LogScale bool
	// ColorBarLabel is written along the colour bar (e.g. "AUROC").
	ColorBarLabel string
	// ColorMap of the cells (nil → Moreland's smooth blue–red diverging map).
	ColorMap palette.ColorMap
	// Width, Height of the figure (zero → DefaultWidth, DefaultHeight).
	Width, Height vg.Length
}

// heatGrid implements plotter.GridXYZ with row 0 at the top.
type heatGrid struct{ v [][]float64 }

func (g heatGrid) Dims() (c, r int)   { return len(g.v[0]), len(g.v) }
func (g heatGrid) Z(c, r int) float64 { return g.v[len(g.v)-1-r][c] }
func (g heatGrid) X(c int) float64    { return float64(c) }
func (g heatGrid) Y(r int) float64    { return float64(r) }

// Heatmap draws a heatmap with a vertical colour bar on its right. It returns an
// error for an empty or ragged matrix, mismatched labels, or a matrix of only NaNs.
func Heatmap(c HeatmapChart) (*Figure, error) {
	rows := len(c.Values)
	if rows == 0 || len(c.Values[0]) == 0 {
		return nil, errors.New("plots: Heatmap: empty matrix")
	}
	cols := len(c.Values[0])
	// shade is what the colours show: the values, or their log₁₀.
	shade, from, to := c.Values, c.Min, c.Max
	if c.LogScale {
		if c.Min < c.Max && c.Min <= 0 {
			return nil, fmt.Errorf("plots: Heatmap: colour range %v…%v; LogScale needs Min > 0", c.Min, c.Max)
		}
		shade = make([][]float64, rows)
		from, to = math.Log10(c.Min), math.Log10(c.Max)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, row := range c.Values {
		if len(row) != cols {
			return nil, fmt.Errorf("plots: Heatmap: row %d has %d values, row 0 has %d", r, len(row), cols)
		}
		if c.LogScale {
			shade[r] = make([]float64, cols)
		}
		for col, v := range row {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("plots: Heatmap: infinite value in row %d", r)
			}
			if c.LogScale {
				if v <= 0 {
					return nil, fmt.Errorf("plots: Heatmap: value %v in row %d, column %d; LogScale needs values > 0", v, r, col)
				}
				v = math.Log10(v) // NaN stays NaN
				shade[r][col] = v
			}
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return nil, errors.New("plots: Heatmap: all values are NaN")
	}
	if len(c.RowLabels) != 0 && len(c.RowLabels) != rows {
		return nil, fmt.Errorf("plots: Heatmap: %d row labels for %d rows", len(c.RowLabels), rows)
	}
	if len(c.ColLabels) != 0 && len(c.ColLabels) != cols {
		return nil, fmt.Errorf("plots: Heatmap: %d column labels for %d columns", len(c.ColLabels), cols)
	}
	if from < to {
		lo, hi = from, to
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	format := c.Format
	if format == "" {
		format = "%.3f"
	}
	cm := c.ColorMap
	if cm == nil {
		cm = moreland.SmoothBlueRed()
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	const nColors = 255
	pal := cm.Palette(nColors)

	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	hm := plotter.NewHeatMap(heatGrid{shade}, pal)
	hm.Min, hm.Max = lo, hi
	hm.NaN = color.Gray{Y: 0xd0}
	hm.Underflow, hm.Overflow = pal.Colors()[0], pal.Colors()[nColors-1]
	p.Add(hm)
	p.X.Tick.Marker = plot.ConstantTicks(labelTicks(c.ColLabels, cols, false))
	p.Y.Tick.Marker = plot.ConstantTicks(labelTicks(c.RowLabels, rows, true))
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	// Rotate the column labels when they would not fit side by side.
	var labelsW vg.Length
	for _, l := range c.ColLabels {
		labelsW += p.X.Tick.Label.Width(l) + 0.2*vg.Centimeter
	}
	width := c.Width
	if width <= 0 {
		width = DefaultWidth
	}
	if cols > 6 || labelsW > width-5*vg.Centimeter {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}

	if c.Annotate {
		var lab plotter.XYLabels
		var styles []text.Style
		for r, row := range c.Values {
			for col, v := range row {
				s := "–"
				if !math.IsNaN(v) {
					s = fmt.Sprintf(format, v)
				}
				lab.XYs = append(lab.XYs, plotter.XY{X: float64(col), Y: float64(rows - 1 - r)})
				lab.Labels = append(lab.Labels, s)
				st := text.Style{Color: color.Black, Font: font.From(plotter.DefaultFont, annotationSize(rows, cols)), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
				if !math.IsNaN(v) && luminance(colorAt(pal, lo, hi, shade[r][col])) < 0.45 {
					st.Color = color.White
				}
				styles = append(styles, st)
			}
		}
		l, err := plotter.NewLabels(lab)
		if err != nil {
			return nil, fmt.Errorf("plots: Heatmap: annotations: %w", err)
		}
		l.TextStyle = styles
		p.Add(l)
	}

	// Colour bar in its own plot on the right.
	cb := plot.New()
	bar := &plotter.ColorBar{ColorMap: cm, Vertical: true}
	cb.Add(bar)
	cb.HideX()
	cb.Y.Padding = 0
	cb.Y.Label.Text = c.ColorBarLabel
	if c.LogScale {
		cb.Y.Tick.Marker = decadeTicks{inLog: true}
	}
	cb.Title.Text = " " // keep the same top margin as the heatmap's title

	f := FromPlot(p, c.Width, c.Height)
	return &Figure{
		Width:  f.Width,
		Height: f.Height,
		draw: func(dc draw.Canvas) {
			barW := 2.2 * vg.Centimeter
			if c.ColorBarLabel != "" {
				barW += 0.5 * vg.Centimeter
			}
			main := draw.Crop(dc, 0, -barW, 0, 0)
			p.Draw(main)
			// Align the bar vertically with the heatmap's data area.
			da := p.DataCanvas(main)
			right := draw.Crop(dc, dc.Max.X-dc.Min.X-barW+0.2*vg.Centimeter, 0, 0, 0)
			right.Min.Y, right.Max.Y = da.Min.Y, da.Max.Y
			cb.Title.Text = ""
			cb.Draw(right)
		},
	}, nil
}

// labelTicks returns one tick per cell, labelled by labels or by index; reversed
// puts index 0 at the top.
func labelTicks(labels []string, n int, reversed bool) []plot.Tick {
	ticks := make([]plot.Tick, n)
	for i := range n {
		pos := i
		if reversed {
			pos = n - 1 - i
		}
		ticks[i].Value = float64(pos)
		if len(labels) != 0 {
			ticks[i].Label = labels[i]
		} else {
			ticks[i].Label = fmt.Sprint(i)
		}
	}
	return ticks
}

func annotationSize(rows, cols int) vg.Length {
	n := max(rows, cols)
	switch {
	case n <= 6:
		return vg.Points(10)
	case n <= 12:
		return vg.Points(8)
	default:
		return vg.Points(6)
	}
}

func colorAt(p palette.Palette, lo, hi, v float64) color.Color {
	cs := p.Colors()
	i := int((v - lo) / (hi - lo) * float64(len(cs)-1))
	return cs[max(0, min(len(cs)-1, i))]
}

// luminance returns the relative luminance of c in [0, 1].
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
}
