package data

import (
	"bytes"
	"strings"
	"testing"
)

// cifarRecord builds one record in the exact CIFAR-10 binary layout: the
// label, then the red, green and blue planes of 32×32 bytes (row-major).
// Pixel (y, x) of channel c has value f(c, y, x).
func cifarRecord(label byte, f func(c, y, x int) byte) []byte {
	rec := []byte{label}
	for c := range 3 {
		for y := range 32 {
			for x := range 32 {
				rec = append(rec, f(c, y, x))
			}
		}
	}
	return rec
}

func pixelPattern(seed int) func(c, y, x int) byte {
	return func(c, y, x int) byte { return byte(seed*7 + c*50 + y*3 + x) }
}

func TestReadCIFARLayout(t *testing.T) {
	var file []byte
	labels := []byte{3, 9, 0}
	for i, l := range labels {
		file = append(file, cifarRecord(l, pixelPattern(i))...)
	}
	if len(file) != 3*3073 {
		t.Fatalf("test file has %d bytes", len(file))
	}
	images, got, err := ReadCIFAR(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 9 || got[2] != 0 {
		t.Fatalf("labels %v, want [3 9 0]", got)
	}
	// Channels-last: image i, pixel (y, x), channel c at ((i*32+y)*32+x)*3+c.
	for i := range 3 {
		f := pixelPattern(i)
		for _, p := range [][3]int{{0, 0, 0}, {1, 0, 0}, {2, 0, 0}, {0, 31, 31}, {2, 5, 17}, {1, 17, 5}} {
			c, y, x := p[0], p[1], p[2]
			if v := images[((i*32+y)*32+x)*3+c]; v != f(c, y, x) {
				t.Errorf("image %d channel %d pixel (%d,%d) = %d, want %d", i, c, y, x, v, f(c, y, x))
			}
		}
	}
	// EncodeCIFAR is the exact inverse.
	var buf bytes.Buffer
	if err := EncodeCIFAR(&buf, images, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), file) {
		t.Error("EncodeCIFAR(ReadCIFAR(file)) differs from file")
	}
}

func TestReadCIFARErrors(t *testing.T) {
	rec := cifarRecord(1, pixelPattern(0))
	for name, tc := range map[string]struct {
		content []byte
		want    string
	}{
		"empty":     {nil, "wrong length"},
		"truncated": {append(bytes.Clone(rec), rec[:100]...), "wrong length"},
		"bad label": {cifarRecord(10, pixelPattern(0)), "label 10"},
	} {
		_, _, err := ReadCIFAR(bytes.NewReader(tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}
