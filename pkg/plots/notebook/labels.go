package notebook

import (
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/plots"
	"github.com/cmemae/cmemae/pkg/results"
)

// Params splits a params slug ("model=memae,model.arch=mnist,…", see
// results.ParamsSlug) into key → value. Values holding commas (lists) are
// rejoined with the entry before them.
func Params(slug string) map[string]string {
	out := map[string]string{}
	last := ""
	for _, part := range strings.Split(slug, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.ContainsAny(k, "[]") {
			if last != "" {
				out[last] += "," + part
			}
			continue
		}
		out[k] = v
		last = k
	}
	return out
}

// Param returns a row's value of a parameter key ("" when not overridden).
func Param(r results.Row, key string) string { return Params(r.Params)[key] }

// ModelNames are the thesis's display names of the model kinds.
var ModelNames = map[string]string{"ae": "AE", "memae": "MemAE", "cond-ae": "cond. AE", "multi-ae": "multiple AEs"}

// ModelLabel names a baseline configuration for plots, e.g. "MemAE flat" or
// "AE spatial", from its model and model.arch parameters (def fills missing ones).
func ModelLabel(r results.Row, defModel, defArch string) string {
	p := Params(r.Params)
	m, a := p["model"], p["model.arch"]
	if m == "" {
		m = defModel
	}
	if a == "" {
		a = defArch
	}
	name := ModelNames[m]
	if name == "" {
		name = m
	}
	if strings.HasSuffix(a, "-flat") || strings.HasSuffix(a, "-flat2") {
		return name + " flat"
	}
	return name + " spatial"
}

// CondLabel names a configuration of the conditional experiment, e.g.
// "C-MemAE known", "C-MemAE unknown (sum)", "cond. AE unknown", from its model,
// conditional and model.selection_metric parameters (memae and sum when absent).
func CondLabel(r results.Row) string {
	p := Params(r.Params)
	m := p["model"]
	if m == "" {
		m = "memae"
	}
	name := ModelNames[m]
	if m == "memae" {
		name = "C-MemAE"
	}
	c := p["conditional"]
	if c == "" {
		c = "known"
	}
	label := name + " " + c
	if c == "unknown" && m == "memae" {
		s := p["model.selection_metric"]
		if s == "" {
			s = "sum"
		}
		label += " (" + s + ")"
	}
	return label
}

// List formats ints as a config list value, e.g. [0,1,4].
func List(v []int) string { return "[" + results.JoinInts(v, ",") + "]" }

// ColorBy gives each series the colour and marker of its name's place in
// names (the notebook's fixed order of strategies, models or classes), so
// that a name keeps its colour and marker in every panel whichever names a
// panel holds. Names not in names keep the palette's order.
func ColorBy(series []plots.Series, names []string) []plots.Series {
	for i := range series {
		if k := slices.Index(names, series[i].Name); k >= 0 {
			series[i].Color = plots.Palette10[k%len(plots.Palette10)]
			series[i].Marker = plots.Glyphs[k%len(plots.Glyphs)]
		}
	}
	return series
}
