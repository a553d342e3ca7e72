package data

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// Split selects the training or the test part of a dataset.
type Split int

const (
	// Train is the training split (60000 images for MNIST and Fashion-MNIST,
	// 50000 for CIFAR-10).
	Train Split = iota
	// Test is the test split (10000 images for every dataset).
	Test
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	default:
		return fmt.Sprintf("Split(%d)", int(s))
	}
}

// Dataset is one split of an image dataset in memory, ready for a model:
// float32 pixels, channels-last, normalised as the thesis did.
type Dataset struct {
	Name       string    // "mnist" | "fashion-mnist" | "cifar"
	Images     []float32 // N*H*W*C, channels-last, normalised per spec
	Labels     []int     // N class indices in [0, len(ClassNames))
	N, H, W, C int
	ClassNames []string
	// Mean and Std are the per-channel constants of the normalisation
	// x ↦ (x/255 − Mean[c]) / Std[c] that was applied to the pixels.
	Mean, Std []float64
}

// NumClasses is the number of classes of the dataset (10 for all three).
func (d *Dataset) NumClasses() int { return len(d.ClassNames) }

// ImageSize is the number of float32 values of one image (H*W*C).
func (d *Dataset) ImageSize() int { return d.H * d.W * d.C }

// Image returns image i (H×W×C values) as a view into d.Images.
func (d *Dataset) Image(i int) []float32 {
	size := d.ImageSize()
	return d.Images[i*size : (i+1)*size : (i+1)*size]
}

// Validate checks that the fields of d are consistent: shape, number of
// values and labels, labels within the classes. [Load] returns valid datasets;
// [NewOneClassSplit] validates its inputs, so hand-made datasets get an error
// instead of a panic.
func (d *Dataset) Validate() error {
	if d == nil {
		return fmt.Errorf("data: nil dataset")
	}
	if d.H <= 0 || d.W <= 0 || d.C <= 0 || d.N < 0 || len(d.ClassNames) == 0 {
		return fmt.Errorf("data: dataset %q has shape N=%d %dx%dx%d and %d classes", d.Name, d.N, d.H, d.W, d.C, len(d.ClassNames))
	}
	if len(d.Labels) != d.N || len(d.Images) != d.N*d.ImageSize() {
		return fmt.Errorf("data: dataset %q: N=%d but %d labels and %d values (want %d)", d.Name, d.N, len(d.Labels), len(d.Images), d.N*d.ImageSize())
	}
	for i, l := range d.Labels {
		if l < 0 || l >= len(d.ClassNames) {
			return fmt.Errorf("data: dataset %q: label %d of image %d is outside 0..%d", d.Name, l, i, len(d.ClassNames)-1)
		}
	}
	return nil
}

// ClassCounts returns the number of images of every class.
func (d *Dataset) ClassCounts() []int {
	counts := make([]int, d.NumClasses())
	for _, l := range d.Labels {
		if l >= 0 && l < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// Denormalize maps normalised values of one or more images (channels-last, as
// in d.Images) back to pixel intensities in [0, 1], clipped, for display.
func (d *Dataset) Denormalize(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		c := i % d.C
		p := float64(v)*d.Std[c] + d.Mean[c]
		out[i] = float32(min(max(p, 0), 1))
	}
	return out
}

// LoadOptions say where [Load] finds or puts the data files. The zero value
// works: built-in copies, the default download directory and downloads.
type LoadOptions struct {
	// DataDir is the data directory, searched first and the destination of
	// downloads. Empty: the environment variable CMEMAE_DATA_DIR, else the
	// default download directory os.UserCacheDir()/cmemae.
	DataDir string
	// Download allows downloading missing files even when the environment
	// variable CMEMAE_OFFLINE is set. Without CMEMAE_OFFLINE, missing files are
	// downloaded in any case.
	Download bool
	// Progress receives download progress bars; nil means silent.
	Progress io.Writer
	// BaseURL, if set, replaces the dataset's canonical download addresses, e.g.
	// a mirror; file names are appended to it.
	BaseURL string
	// HTTPClient is used for downloads; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Context, if set, cancels downloads (e.g. on Ctrl-C); nil means
	// context.Background().
	Context context.Context
}

// Names lists the dataset names [Load] accepts.
func Names() []string { return []string{"mnist", "fashion-mnist", "cifar"} }

// ClassNames returns the class names of a dataset without loading it, or an
// error for an unknown name.
func ClassNames(name string) ([]string, error) {
	sp, err := lookupSpec(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(sp.classes), nil
}

// Load reads a split of the dataset called name ("mnist", "fashion-mnist" or
// "cifar"; "fashion_mnist", "fashionmnist", "cifar10" and "cifar-10" are
// accepted too), finding or downloading its files as described in the package
// documentation, and normalises it.
func Load(name string, split Split, opts LoadOptions) (*Dataset, error) {
	sp, err := lookupSpec(name)
	if err != nil {
		return nil, err
	}
	if split != Train && split != Test {
		return nil, fmt.Errorf("data: unknown split %v, want data.Train or data.Test", split)
	}
	dir, err := locate(sp, split, opts)
	if err != nil {
		return nil, err
	}
	var pixels []byte
	var labels []int
	switch sp.format {
	case formatIDX:
		pixels, labels, err = readIDXSplit(sp, dir, split)
	case formatCIFAR:
		pixels, labels, err = readCIFARSplit(sp, dir, split)
	}
	if err != nil {
		return nil, err
	}
	ds := &Dataset{
		Name:       sp.name,
		Labels:     labels,
		N:          len(labels),
		H:          sp.h,
		W:          sp.w,
		C:          sp.c,
		ClassNames: slices.Clone(sp.classes),
		Mean:       slices.Clone(sp.mean),
		Std:        slices.Clone(sp.std),
	}
	ds.Images = normalize(pixels, sp.mean, sp.std)
	return ds, nil
}

// normalize converts bytes (channels-last, len(mean) channels) to float32
// (x/255 − mean[c]) / std[c] through a lookup table per channel, in parallel
// chunks.
func normalize(pixels []byte, mean, std []float64) []float32 {
	c := len(mean)
	luts := make([][256]float32, c)
	for ch := range c {
		for v := range 256 {
			luts[ch][v] = float32((float64(v)/255 - mean[ch]) / std[ch])
		}
	}
	out := make([]float32, len(pixels))
	// Chunks are whole pixels (multiples of c) so that i%c is the channel.
	const minChunk = 1 << 20
	workers := max(1, min(runtime.GOMAXPROCS(0), len(pixels)/minChunk))
	chunk := (len(pixels)/workers + c - 1) / c * c
	var wg sync.WaitGroup
	for start := 0; start < len(pixels); start += chunk {
		end := min(start+chunk, len(pixels))
		wg.Go(func() {
			src, dst := pixels[start:end], out[start:end]
			if c == 1 {
				lut := &luts[0]
				for i, p := range src {
					dst[i] = lut[p]
				}
				return
			}
			for i, p := range src {
				dst[i] = luts[i%c][p]
			}
		})
	}
	wg.Wait()
	return out
}

func readIDXSplit(sp *spec, dir string, split Split) (pixels []byte, labels []int, err error) {
	names := sp.files[split]
	imgPath, _ := findIDX(dir, names[0])
	lblPath, _ := findIDX(dir, names[1])
	img, err := ReadIDXFile(imgPath)
	if err != nil {
		return nil, nil, err
	}
	lbl, err := ReadIDXFile(lblPath)
	if err != nil {
		return nil, nil, err
	}
	if len(img.Dims) != 3 || img.Dims[1] != sp.h || img.Dims[2] != sp.w {
		return nil, nil, fmt.Errorf("data: %s holds an array of shape %v, want [N %d %d] images", imgPath, img.Dims, sp.h, sp.w)
	}
	if len(lbl.Dims) != 1 {
		return nil, nil, fmt.Errorf("data: %s holds an array of shape %v, want [N] labels", lblPath, lbl.Dims)
	}
	if lbl.Dims[0] != img.Dims[0] {
		return nil, nil, fmt.Errorf("data: %s has %d labels but %s has %d images", lblPath, lbl.Dims[0], imgPath, img.Dims[0])
	}
	labels = make([]int, len(lbl.Data))
	for i, l := range lbl.Data {
		if int(l) >= len(sp.classes) {
			return nil, nil, fmt.Errorf("data: %s: label %d of image %d is out of range 0..%d", lblPath, l, i, len(sp.classes)-1)
		}
		labels[i] = int(l)
	}
	return img.Data, labels, nil
}

func readCIFARSplit(sp *spec, dir string, split Split) (pixels []byte, labels []int, err error) {
	var parts [][]byte
	for _, name := range sp.files[split] {
		path := joinPath(dir, name)
		img, lbl, err := ReadCIFARFile(path)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, img)
		labels = append(labels, lbl...)
	}
	return slices.Concat(parts...), labels, nil
}

// lookupSpec finds a dataset by name or alias.
func lookupSpec(name string) (*spec, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	switch key {
	case "fashion_mnist", "fashionmnist", "fmnist":
		key = "fashion-mnist"
	case "cifar10", "cifar-10", "cifar_10":
		key = "cifar"
	}
	for _, sp := range specs {
		if sp.name == key {
			return sp, nil
		}
	}
	return nil, fmt.Errorf("data: unknown dataset %q, valid names: %s", name, strings.Join(Names(), ", "))
}
