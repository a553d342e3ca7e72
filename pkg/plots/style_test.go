package plots

import (
	"bytes"
	"image/color"
	"testing"
)

// TestBarValueLabels: ValueFormat writes the values above the bars (the
// figure changes), and the Y range leaves room for them.
func TestBarValueLabels(t *testing.T) {
	c := BarChart{Title: "λ", Values: []float64{0.9512, 0.9518}, Labels: []string{"0", "0.0025"}}
	plain, err := Bars(c)
	if err != nil {
		t.Fatal(err)
	}
	c.ValueFormat = "%.4f"
	labelled, err := Bars(c)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := plain.PNG()
	b, _ := labelled.PNG()
	if len(a) == 0 || bytes.Equal(a, b) {
		t.Error("value labels do not change the figure")
	}
}

// TestSeriesColor: a series' Color replaces the palette's, so a strategy keeps
// its colour across panels.
func TestSeriesColor(t *testing.T) {
	s := []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{0.5, 0.6}}}
	f1, err := Lines(LineChart{Series: s})
	if err != nil {
		t.Fatal(err)
	}
	s[0].Color = Palette10[0]
	f2, _ := Lines(LineChart{Series: s})
	s[0].Color = color.RGBA{0xff, 0, 0, 0xff}
	f3, _ := Lines(LineChart{Series: s})
	p1, _ := f1.PNG()
	p2, _ := f2.PNG()
	p3, _ := f3.PNG()
	if !bytes.Equal(p1, p2) {
		t.Error("Color = the palette's first colour draws a different figure")
	}
	if bytes.Equal(p1, p3) {
		t.Error("Color red draws the same figure as the palette's blue")
	}
}
