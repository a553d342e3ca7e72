package plots

import (
	"errors"
	"fmt"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarChart describes a bar chart of one vector, e.g. an addressing vector over
// the memory items.
type BarChart struct {
	Title, XLabel, YLabel string
	Values                []float64
	// Labels names the bars; empty → the bar index (0, 1, …). With more than 25
	// bars only every k-th label is shown.
	Labels []string
	// Width, Height of the figure (zero → DefaultWidth, DefaultHeight).
	Width, Height vg.Length
	// ValueFormat, if set (e.g. "%.3f"), writes each bar's value above it, so
	// that nearly equal bars can be told apart.
	ValueFormat string
}

// Bars draws a bar chart. It returns an error for an empty or non-finite vector
// or when Labels does not match Values.
func Bars(c BarChart) (*Figure, error) {
	if len(c.Values) == 0 {
		return nil, errors.New("plots: Bars: no values")
	}
	if len(c.Labels) != 0 && len(c.Labels) != len(c.Values) {
		return nil, fmt.Errorf("plots: Bars: %d labels for %d values", len(c.Labels), len(c.Values))
	}
	for i, v := range c.Values {
		if !isFinite(v) {
			return nil, fmt.Errorf("plots: Bars: value %d is %v", i, v)
		}
	}
	width := c.Width
	if width <= 0 {
		width = DefaultWidth
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	// Bar width: fill ~80% of the data area.
	bw := (width - 2*vg.Centimeter) * 0.8 / vg.Length(len(c.Values))
	b, err := plotter.NewBarChart(plotter.Values(c.Values), bw)
	if err != nil {
		return nil, fmt.Errorf("plots: Bars: %w", err)
	}
	b.Color = Palette10[0]
	b.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), b)
	step := 1
	if len(c.Values) > 25 {
		step = (len(c.Values) + 24) / 25
	}
	ticks := make([]plot.Tick, len(c.Values))
	for i := range c.Values {
		ticks[i].Value = float64(i)
		if i%step != 0 {
			continue
		}
		if len(c.Labels) != 0 {
			ticks[i].Label = c.Labels[i]
		} else {
			ticks[i].Label = strconv.Itoa(i)
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.5, float64(len(c.Values))-0.5
	lo, hi := 0.0, 0.0
	for _, v := range c.Values {
		lo, hi = min(lo, v), max(hi, v)
	}
	pad := 0.05 * (hi - lo)
	if c.ValueFormat != "" {
		pad = 0.12 * (hi - lo) // room for the value labels
	}
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	p.Y.Tick.Marker = roundTicks{}
	if lo == 0 {
		p.Y.Min = 0
	}
	if c.ValueFormat != "" {
		xys := make([]plotter.XY, len(c.Values))
		texts := make([]string, len(c.Values))
		for i, v := range c.Values {
			xys[i] = plotter.XY{X: float64(i), Y: v}
			texts[i] = fmt.Sprintf(c.ValueFormat, v)
		}
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
		if err != nil {
			return nil, fmt.Errorf("plots: Bars: %w", err)
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].XAlign = draw.XCenter
			labels.TextStyle[i].YAlign = draw.YBottom
			if c.Values[i] < 0 {
				labels.TextStyle[i].YAlign = draw.YTop
			}
		}
		p.Add(labels)
	}
	return FromPlot(p, width, c.Height), nil
}
