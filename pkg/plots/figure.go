package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	stddraw "image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution used when a Figure is rasterised to PNG.
const DPI = 96

// Default figure sizes.
var (
	DefaultWidth  = 16 * vg.Centimeter
	DefaultHeight = 10 * vg.Centimeter
)

// Figure is a drawable of a fixed size: one plot, or several tiled together.
type Figure struct {
	// Width and Height of the figure.
	Width, Height vg.Length
	draw          func(dc draw.Canvas)
}

// FromPlot wraps a gonum plot as a Figure of the given size (zero → defaults).
func FromPlot(p *plot.Plot, width, height vg.Length) *Figure {
	if width <= 0 {
		width = DefaultWidth
	}
	if height <= 0 {
		height = DefaultHeight
	}
	return &Figure{Width: width, Height: height, draw: p.Draw}
}

// render draws the figure on c, converting gonum/plot panics into errors.
func (f *Figure) render(c vg.CanvasSizer) (err error) {
	if f == nil || f.draw == nil {
		return errors.New("plots: nil figure")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing figure: %v", r)
		}
	}()
	dc := draw.New(c)
	// White background, so that PNGs look the same in dark notebook themes.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.draw(dc)
	return nil
}

// Image rasterises the figure.
func (f *Figure) Image() (image.Image, error) {
	if f == nil {
		return nil, errors.New("plots: nil figure")
	}
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI))
	if err := f.render(c); err != nil {
		return nil, err
	}
	return c.Image(), nil
}

// PNG encodes the figure as PNG: 8-bit grey when every pixel is grey (image
// grids of MNIST, about half the bytes of RGBA), RGBA otherwise.
func (f *Figure) PNG() ([]byte, error) {
	img, err := f.Image()
	if err != nil {
		return nil, err
	}
	if g, ok := asGray(img); ok {
		img = g
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// asGray returns img as an 8-bit grey image when it is opaque and every
// pixel has R = G = B (a lossless conversion).
func asGray(img image.Image) (*image.Gray, bool) {
	rgba, ok := img.(*image.RGBA)
	if !ok {
		return nil, false
	}
	for i := 0; i+3 < len(rgba.Pix); i += 4 {
		p := rgba.Pix[i : i+4 : i+4]
		if p[0] != p[1] || p[1] != p[2] || p[3] != 0xff {
			return nil, false
		}
	}
	g := image.NewGray(rgba.Rect)
	stddraw.Draw(g, g.Rect, rgba, rgba.Rect.Min, stddraw.Src)
	return g, true
}

// CompactPNG encodes the figure as a paletted PNG (the 256 colours of Plan 9's
// palette, nearest colour, no dithering): about a quarter of PNG's size, for
// outputs that embed many figures (DisplayPicker). Plot colours and
// anti-aliased text map to nearby palette colours.
func (f *Figure) CompactPNG() ([]byte, error) {
	img, err := f.Image()
	if err != nil {
		return nil, err
	}
	p := image.NewPaletted(img.Bounds(), palette.Plan9)
	stddraw.Draw(p, p.Rect, img, img.Bounds().Min, stddraw.Src)
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, p); err != nil {
		return nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// SVG encodes the figure as SVG.
func (f *Figure) SVG() ([]byte, error) {
	if f == nil {
		return nil, errors.New("plots: nil figure")
	}
	c := vgsvg.New(f.Width, f.Height)
	if err := f.render(c); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encoding SVG: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes the figure to path; the format follows the extension (.png or .svg).
func (f *Figure) Save(path string) error {
	var (
		b   []byte
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		b, err = f.PNG()
	case ".svg":
		b, err = f.SVG()
	default:
		return fmt.Errorf("plots: saving %s: unknown extension %q (valid: .png, .svg)", path, ext)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("plots: saving %s: %w", path, err)
	}
	return nil
}

// tilePad separates tiled figures.
const tilePad = 0.4 * vg.Centimeter

// Tile places figures in a grid with cols columns (row-major), each cell as large
// as the largest figure. Nil figures leave their cell empty.
func Tile(cols int, figs ...*Figure) (*Figure, error) {
	if len(figs) == 0 {
		return nil, errors.New("plots: Tile: no figures")
	}
	if cols <= 0 {
		return nil, fmt.Errorf("plots: Tile: cols must be > 0, got %d", cols)
	}
	cols = min(cols, len(figs))
	rows := (len(figs) + cols - 1) / cols
	var cw, ch vg.Length
	for _, f := range figs {
		if f == nil {
			continue
		}
		cw, ch = max(cw, f.Width), max(ch, f.Height)
	}
	if cw == 0 {
		return nil, errors.New("plots: Tile: all figures are nil")
	}
	return &Figure{
		Width:  cw*vg.Length(cols) + tilePad*vg.Length(cols-1),
		Height: ch*vg.Length(rows) + tilePad*vg.Length(rows-1) + tilePad/2,
		draw: func(dc draw.Canvas) {
			t := draw.Tiles{Rows: rows, Cols: cols, PadX: tilePad, PadY: tilePad, PadTop: tilePad / 2}
			for i, f := range figs {
				if f == nil {
					continue
				}
				f.draw(t.At(dc, i%cols, i/cols))
			}
		},
	}, nil
}

// Cm is one centimetre, for figure sizes (Width: 9 * plots.Cm).
const Cm = vg.Centimeter
