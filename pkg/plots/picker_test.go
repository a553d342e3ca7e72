package plots

import (
	"encoding/base64"
	"errors"
	"image"
	"regexp"
	"strings"
	"testing"
)

// PickerHTML: the default option is selected and its figure alone visible,
// every PNG decodes back to its bytes, labels are escaped.
func TestPickerHTML(t *testing.T) {
	pngs := [][]byte{[]byte("first"), []byte("second"), []byte("third")}
	h := PickerHTML("pick <one>:", []string{"a", "b & c", "d"}, 1, pngs, []int{10, 20, 30})
	if !strings.Contains(h, "pick &lt;one&gt;:") || !strings.Contains(h, ">b &amp; c</option>") {
		t.Errorf("label or option not escaped:\n%s", h)
	}
	if got := regexp.MustCompile(`<option value="(\d)" selected>`).FindAllStringSubmatch(h, -1); len(got) != 1 || got[0][1] != "1" {
		t.Errorf("selected options %v, want only 1", got)
	}
	divs := regexp.MustCompile(`<div data-option="(\d)" style="display:(\w+)"><img alt="[^"]*" width="(\d+)" src="data:image/png;base64,([^"]+)">`).FindAllStringSubmatch(h, -1)
	if len(divs) != 3 {
		t.Fatalf("%d figure divs, want 3:\n%s", len(divs), h)
	}
	for i, d := range divs {
		wantDisplay := map[bool]string{true: "block", false: "none"}[i == 1]
		if d[1] != string(rune('0'+i)) || d[2] != wantDisplay || d[3] != []string{"10", "20", "30"}[i] {
			t.Errorf("div %d: option %s display %s width %s, want %d %s", i, d[1], d[2], d[3], i, wantDisplay)
		}
		if b, err := base64.StdEncoding.DecodeString(d[4]); err != nil || string(b) != string(pngs[i]) {
			t.Errorf("div %d: image %q (%v), want %q", i, b, err, pngs[i])
		}
	}
}

// Outside a notebook DisplayPicker draws every option once (errors name the
// option) and refuses an empty list.
func TestDisplayPicker(t *testing.T) {
	f, err := Bars(BarChart{Title: "x", Values: []float64{1, 2}, Labels: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	var drawn []int
	err = DisplayPicker("p", []string{"a", "b", "c"}, 7, func(i int) (*Figure, error) {
		drawn = append(drawn, i)
		return f, nil
	})
	if err != nil || len(drawn) != 3 || drawn[0] != 0 || drawn[2] != 2 {
		t.Errorf("drew %v (%v), want [0 1 2]", drawn, err)
	}
	err = DisplayPicker("p", []string{"a", "bad one"}, 0, func(i int) (*Figure, error) {
		if i == 1 {
			return nil, errors.New("boom")
		}
		return f, nil
	})
	if err == nil || !strings.Contains(err.Error(), `"bad one"`) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("draw error: %v", err)
	}
	if DisplayPicker("p", nil, 0, nil) == nil || DisplayPicker("p", []string{"a"}, 0, nil) == nil {
		t.Error("no options or no draw function: want errors")
	}
}

// CompactPNG is a paletted PNG of the figure's size, smaller than PNG, with
// the figure's colours kept (to within the palette's spacing).
func TestCompactPNG(t *testing.T) {
	f, err := Bars(BarChart{Title: "compact", Values: []float64{1, 2, 3}, Labels: []string{"a", "b", "c"}, ValueFormat: "%.1f"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	small, err := f.CompactPNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, f, small)
	if _, ok := img.(*image.Paletted); !ok {
		t.Errorf("CompactPNG decodes to %T, want a paletted image", img)
	}
	if len(small) >= len(full) {
		t.Errorf("CompactPNG %d bytes, PNG %d: want smaller", len(small), len(full))
	}
	ref := decode(t, f, full)
	var worst uint32
	b := ref.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r1, g1, b1, _ := ref.At(x, y).RGBA()
			r2, g2, b2, _ := img.At(x, y).RGBA()
			for _, d := range []uint32{diff(r1, r2), diff(g1, g2), diff(b1, b2)} {
				worst = max(worst, d>>8)
			}
		}
	}
	// Plan 9's palette spaces each channel at most 0x44 apart: nearest colour is within half.
	if worst > 0x44 {
		t.Errorf("largest channel difference %#x, want ≤ 0x44", worst)
	}
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
