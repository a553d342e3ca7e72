package plots

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// DisplayPicker shows one figure per option in a single output, under a
// drop-down list that switches between them in the browser. Every figure is
// drawn up front (draw(i) for each option i) and embedded as a paletted PNG
// (Figure.CompactPNG), so picking
// needs no running cell: the cell ends at once (Run All moves on), the
// choice keeps working after the kernel has gone and in exported HTML, and a
// headless run (nbconvert) gets every figure. def is the option shown first.
// Keep the options to tens: each one is a figure in the notebook's output.
//
// Outside a notebook it draws every figure (so errors surface) and shows
// nothing.
func DisplayPicker(label string, options []string, def int, draw func(i int) (*Figure, error)) error {
	if len(options) == 0 {
		return errors.New("plots: DisplayPicker: no options")
	}
	if draw == nil {
		return errors.New("plots: DisplayPicker: no draw function")
	}
	if def < 0 || def >= len(options) {
		def = 0
	}
	pngs := make([][]byte, len(options))
	widths := make([]int, len(options))
	for i := range options {
		f, err := draw(i)
		if err != nil {
			return fmt.Errorf("plots: DisplayPicker: option %q: %w", options[i], err)
		}
		if pngs[i], err = f.CompactPNG(); err != nil {
			return fmt.Errorf("plots: DisplayPicker: option %q: %w", options[i], err)
		}
		widths[i] = int(f.Width.Dots(DPI))
	}
	if !gonbui.IsNotebook {
		return nil
	}
	ShowHTML(PickerHTML(label, options, def, pngs, widths))
	return gonbui.Error()
}

// PickerHTML is DisplayPicker's output: a <select> of options and one
// <div> per option holding its PNG (width in CSS pixels), only the selected
// one visible; the select's onchange shows the matching div. It uses no
// element ids, so several pickers can share a page.
func PickerHTML(label string, options []string, def int, pngs [][]byte, widths []int) string {
	var sb strings.Builder
	sb.WriteString(`<div class="cmemae-picker">`)
	fmt.Fprintf(&sb, `<label style="font-family:sans-serif">%s `, html.EscapeString(label))
	sb.WriteString(`<select onchange="var p=this.closest('.cmemae-picker');` +
		`p.querySelectorAll(':scope>div[data-option]').forEach(function(d){d.style.display=(d.dataset.option===this.value)?'':'none';},this);">`)
	for i, o := range options {
		sel := ""
		if i == def {
			sel = " selected"
		}
		fmt.Fprintf(&sb, `<option value="%d"%s>%s</option>`, i, sel, html.EscapeString(o))
	}
	sb.WriteString("</select></label>")
	for i := range options {
		display := "none"
		if i == def {
			display = "block"
		}
		fmt.Fprintf(&sb, `<div data-option="%d" style="display:%s"><img alt="%s" width="%d" src="data:image/png;base64,%s"></div>`,
			i, display, html.EscapeString(options[i]), widths[i], base64.StdEncoding.EncodeToString(pngs[i]))
	}
	sb.WriteString("</div>")
	return sb.String()
}
