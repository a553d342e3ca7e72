package results

import (
	"fmt"
	"math"
	"strings"
)

// Pivot is a two-way table of one metric, e.g. class (rows) × configuration
// (columns) as in the thesis's heatmaps and LaTeX tables.
type Pivot struct {
	RowLabels, ColLabels []string
	// Values[i][j] is the mean metric of the rows with row key RowLabels[i]
	// and column key ColLabels[j]; NaN where there are none.
	Values [][]float64
}

// Pivot builds a two-way table of metric: rows keyed by rowKey, columns by
// colKey (labels in natural order). Cells holding several rows (e.g. several
// seeds or epochs) hold their mean; reduce the table first (MaxOverEpochs,
// MeanOverSeeds) to get the thesis's numbers.
func (t Table) Pivot(rowKey, colKey func(Row) string, metric Metric) (Pivot, error) {
	if len(t.Rows) == 0 {
		return Pivot{}, ErrNoRows
	}
	rows, byRow := t.GroupBy(rowKey)
	cols := t.Unique(colKey)
	colIndex := make(map[string]int, len(cols))
	for j, c := range cols {
		colIndex[c] = j
	}
	p := Pivot{RowLabels: rows, ColLabels: cols, Values: make([][]float64, len(rows))}
	for i, rk := range rows {
		cells := make([][]float64, len(cols))
		for _, r := range byRow[rk].Rows {
			j := colIndex[colKey(r)]
			cells[j] = append(cells[j], metric(r))
		}
		p.Values[i] = make([]float64, len(cols))
		for j := range cols {
			p.Values[i][j] = Mean(cells[j])
		}
	}
	return p, nil
}

// ClassByConfiguration is a Pivot of metric with one row per tested class (per
// pair and class for conditional runs: ByTestSet) and one column per
// configuration (experiment/params), each cell the best epoch's metric averaged
// over seeds — the thesis's "max-over-epochs AUROC, class × configuration,
// mean over seeds".
func (t Table) ClassByConfiguration(metric Metric) (Pivot, error) {
	return t.MaxOverEpochs(metric).MeanOverSeeds().Pivot(ByTestSet, ByConfiguration, metric)
}

// ColumnMeans returns the mean of every column (NaN cells left out).
func (p Pivot) ColumnMeans() []float64 {
	out := make([]float64, len(p.ColLabels))
	for j := range p.ColLabels {
		col := make([]float64, len(p.Values))
		for i := range p.Values {
			col[i] = p.Values[i][j]
		}
		out[j] = Mean(col)
	}
	return out
}

// ColumnStds returns the sample standard deviation (n−1) of every column,
// NaN cells left out; NaN for a column with fewer than two values (no spread
// to tell). With a row per seed it is the spread over seeds.
func (p Pivot) ColumnStds() []float64 {
	out := make([]float64, len(p.ColLabels))
	for j := range p.ColLabels {
		var col []float64
		for i := range p.Values {
			if v := p.Values[i][j]; !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		out[j] = math.NaN()
		if len(col) > 1 {
			out[j] = Std(col)
		}
	}
	return out
}

// LaTeXOptions controls Pivot.LaTeX.
type LaTeXOptions struct {
	Caption, Label string
	// Corner is the header of the row-label column (default "Class").
	Corner string
	// Precision is the number of decimals (default 4).
	Precision int
	// BoldMax sets the largest value of every row in bold.
	BoldMax bool
	// MeanRow appends a row with the column means (label "Mean").
	MeanRow bool
	// NoFloat emits only the tabular environment, without table/caption/label.
	NoFloat bool
	// Marked[i][j] flags cell (i, j) with a superscript * (e.g. runs still
	// training); MarkNote, if set, explains the mark below the tabular.
	Marked   [][]bool
	MarkNote string
}

// LaTeX renders the pivot as a booktabs table (\toprule, \midrule,
// \bottomrule), like the tables exported by the thesis. Labels are escaped;
// missing cells are written as "--".
func (p Pivot) LaTeX(opts LaTeXOptions) string {
	if opts.Corner == "" {
		opts.Corner = "Class"
	}
	if opts.Precision <= 0 {
		opts.Precision = 4
	}
	var b strings.Builder
	if !opts.NoFloat {
		b.WriteString("\\begin{table}[htbp]\n\\centering\n")
		if opts.Caption != "" {
			fmt.Fprintf(&b, "\\caption{%s}\n", escapeLaTeX(opts.Caption))
		}
		if opts.Label != "" {
			fmt.Fprintf(&b, "\\label{%s}\n", opts.Label)
		}
	}
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(p.ColLabels)))
	header := []string{escapeLaTeX(opts.Corner)}
	for _, c := range p.ColLabels {
		header = append(header, escapeLaTeX(c))
	}
	b.WriteString(strings.Join(header, " & ") + " \\\\\n\\midrule\n")
	writeRow := func(label string, vals []float64, marks []bool) {
		cells := []string{escapeLaTeX(label)}
		best := math.Inf(-1)
		for _, v := range vals {
			if !math.IsNaN(v) && v > best {
				best = v
			}
		}
		for j, v := range vals {
			s := "--"
			if !math.IsNaN(v) {
				s = fmt.Sprintf("%.*f", opts.Precision, v)
				// Compare rounded values so ties in print are bold together.
				if opts.BoldMax && s == fmt.Sprintf("%.*f", opts.Precision, best) {
					s = "\\textbf{" + s + "}"
				}
			}
			if j < len(marks) && marks[j] {
				s += "\\textsuperscript{*}"
			}
			cells = append(cells, s)
		}
		b.WriteString(strings.Join(cells, " & ") + " \\\\\n")
	}
	anyMarked := false
	colMarked := make([]bool, len(p.ColLabels))
	for i, label := range p.RowLabels {
		var marks []bool
		if i < len(opts.Marked) {
			marks = opts.Marked[i]
			for j, m := range marks {
				if m && j < len(colMarked) {
					colMarked[j], anyMarked = true, true
				}
			}
		}
		writeRow(label, p.Values[i], marks)
	}
	if opts.MeanRow {
		b.WriteString("\\midrule\n")
		writeRow("Mean", p.ColumnMeans(), colMarked)
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n")
	if anyMarked && opts.MarkNote != "" {
		fmt.Fprintf(&b, "\\par\\footnotesize\\textsuperscript{*}%s\n", escapeLaTeX(opts.MarkNote))
	}
	if !opts.NoFloat {
		b.WriteString("\\end{table}\n")
	}
	return b.String()
}

var latexEscaper = strings.NewReplacer(
	`\`, `\textbackslash{}`, `&`, `\&`, `%`, `\%`, `$`, `\$`, `#`, `\#`,
	`_`, `\_`, `{`, `\{`, `}`, `\}`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`,
)

func escapeLaTeX(s string) string { return latexEscaper.Replace(s) }
