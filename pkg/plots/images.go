package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Norm undoes the dataset normalisation of images: pixel = x·Std[c] + Mean[c],
// clamped to [0, 1]. A zero Norm is the identity (values already in [0, 1]).
type Norm struct{ Mean, Std []float64 }

// Normalisations of the thesis's datasets, as package data applies them (see its doc).
var (
	// MNISTNorm undoes (x/255 − 0.1307)/0.3081 (MNIST and Fashion-MNIST).
	MNISTNorm = Norm{Mean: []float64{0.1307}, Std: []float64{0.3081}}
	// CIFARNorm undoes (x/255 − 0.5)/0.5 per channel.
	CIFARNorm = Norm{Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.5, 0.5, 0.5}}
)

// NormFor returns the de-normalisation of a dataset name ("mnist",
// "fashion-mnist", "cifar"); unknown names get the identity.
func NormFor(dataset string) Norm {
	switch dataset {
	case "mnist", "fashion-mnist", "fashion_mnist", "fmnist":
		return MNISTNorm
	case "cifar", "cifar10", "cifar-10":
		return CIFARNorm
	}
	return Norm{}
}

func (n Norm) apply(x float64, ch int) float64 {
	if len(n.Std) > 0 {
		x = x*n.Std[ch%len(n.Std)] + n.Mean[ch%len(n.Mean)]
	}
	return x
}

// ImageGridChart describes a grid of images, e.g. inputs in the first row and
// their reconstructions in the second, or the decoded memory items.
type ImageGridChart struct {
	Title string
	// Images holds N images of H×W×C, channels-last (C = 1 grey or 3 RGB), as
	// produced by the models and the data loader.
	Images     []float32
	N, H, W, C int
	// Cols is the number of images per grid row (0 → min(N, 10)).
	Cols int
	// Norm de-normalises the pixels before display.
	Norm Norm
	// PerImageScale stretches each image to its own min..max instead of Norm
	// (useful for error maps or decoded items far out of range).
	PerImageScale bool
	// RowLabels and ColLabels are written left of each grid row and below each
	// grid column (optional).
	RowLabels, ColLabels []string
	// CellSize is the displayed size of one image (zero → 1.6 cm).
	CellSize vg.Length
}

// ImageGrid draws the images of c in a grid. It returns an error for an empty
// grid, a tensor whose length is not N·H·W·C, or a channel count other than 1 or 3.
func ImageGrid(c ImageGridChart) (*Figure, error) {
	if c.N <= 0 || c.H <= 0 || c.W <= 0 {
		return nil, fmt.Errorf("plots: ImageGrid: empty grid (N=%d, H=%d, W=%d)", c.N, c.H, c.W)
	}
	if c.C != 1 && c.C != 3 {
		return nil, fmt.Errorf("plots: ImageGrid: %d channels, want 1 or 3", c.C)
	}
	if len(c.Images) != c.N*c.H*c.W*c.C {
		return nil, fmt.Errorf("plots: ImageGrid: %d values for %d images of %dx%dx%d", len(c.Images), c.N, c.H, c.W, c.C)
	}
	cols := c.Cols
	if cols <= 0 {
		cols = min(c.N, 10)
	}
	cols = min(cols, c.N)
	rows := (c.N + cols - 1) / cols
	if len(c.RowLabels) != 0 && len(c.RowLabels) != rows {
		return nil, fmt.Errorf("plots: ImageGrid: %d row labels for %d grid rows", len(c.RowLabels), rows)
	}
	if len(c.ColLabels) != 0 && len(c.ColLabels) != cols {
		return nil, fmt.Errorf("plots: ImageGrid: %d column labels for %d grid columns", len(c.ColLabels), cols)
	}
	cell := c.CellSize
	if cell <= 0 {
		cell = 1.6 * vg.Centimeter
	}
	mosaic := Mosaic(c.Images, c.N, c.H, c.W, c.C, cols, c.Norm, c.PerImageScale)
	// Upscale (nearest neighbour) so the rasteriser does not blur the pixels.
	scale := max(1, int(math.Ceil(float64(cell.Dots(DPI))/float64(c.H+2))))
	img := upscale(mosaic, scale)

	p := plot.New()
	p.Title.Text = c.Title
	p.Add(plotter.NewImage(img, 0, 0, float64(cols), float64(rows)))
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(cols), 0, float64(rows)
	p.X.Padding, p.Y.Padding = 0, 0
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.LineStyle.Width = 0
		ax.Tick.LineStyle.Width = 0
		ax.Tick.Length = 0
	}
	xt := make([]plot.Tick, 0, cols)
	for i := range cols {
		t := plot.Tick{Value: float64(i) + 0.5}
		if len(c.ColLabels) != 0 {
			t.Label = c.ColLabels[i]
		}
		xt = append(xt, t)
	}
	yt := make([]plot.Tick, 0, rows)
	for i := range rows {
		t := plot.Tick{Value: float64(rows-1-i) + 0.5}
		if len(c.RowLabels) != 0 {
			t.Label = c.RowLabels[i]
		}
		yt = append(yt, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	if len(c.ColLabels) == 0 {
		p.X.Tick.Label.Font.Size = 0
	}

	labelW := vg.Length(0)
	if len(c.RowLabels) != 0 {
		for _, l := range c.RowLabels {
			labelW = max(labelW, p.Y.Tick.Label.Width(l))
		}
	}
	const margin = 0.25 * vg.Centimeter // keeps row labels off the left edge
	width := cell*vg.Length(cols) + labelW + 0.8*vg.Centimeter + margin
	height := cell*vg.Length(rows) + 1.2*vg.Centimeter
	if c.Title != "" {
		height += 0.6 * vg.Centimeter
	}
	if len(c.ColLabels) != 0 {
		height += 0.5 * vg.Centimeter
	}
	return &Figure{Width: width, Height: height, draw: func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, margin, 0, 0, 0))
	}}, nil
}

// Mosaic arranges n channels-last images of h×w×ch in a grid with cols columns and
// a 1-pixel white border around each, de-normalised by norm (or stretched per
// image when perImage). It panics if len(images) < n·h·w·ch; use ImageGrid for
// checked input.
func Mosaic(images []float32, n, h, w, ch, cols int, norm Norm, perImage bool) *image.RGBA {
	rows := (n + cols - 1) / cols
	ch2, cw2 := h+2, w+2
	img := image.NewRGBA(image.Rect(0, 0, cols*cw2, rows*ch2))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	size := h * w * ch
	for k := range n {
		px := images[k*size : (k+1)*size]
		lo, hi := 0.0, 1.0
		if perImage {
			lo, hi = math.Inf(1), math.Inf(-1)
			for _, v := range px {
				lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
			}
			if hi <= lo {
				hi = lo + 1
			}
		}
		ox, oy := (k%cols)*cw2+1, (k/cols)*ch2+1
		for y := range h {
			for x := range w {
				var rgb [3]uint8
				for c := range ch {
					v := float64(px[(y*w+x)*ch+c])
					if perImage {
						v = (v - lo) / (hi - lo)
					} else {
						v = norm.apply(v, c)
					}
					if math.IsNaN(v) {
						v = 0
					}
					rgb[c] = uint8(math.Round(255 * math.Max(0, math.Min(1, v))))
				}
				if ch == 1 {
					rgb[1], rgb[2] = rgb[0], rgb[0]
				}
				img.SetRGBA(ox+x, oy+y, color.RGBA{rgb[0], rgb[1], rgb[2], 0xff})
			}
		}
	}
	return img
}

func upscale(src *image.RGBA, s int) *image.RGBA {
	if s == 1 {
		return src
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*s, b.Dy()*s))
	for y := range b.Dy() * s {
		for x := range b.Dx() * s {
			dst.SetRGBA(x, y, src.RGBAAt(x/s, y/s))
		}
	}
	return dst
}
