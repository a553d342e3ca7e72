package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/cmemae/cmemae/pkg/results"
)

const tableUsage = `Usage: go run ./thesis_experiments table [flags] [results directory]

Prints the thesis's summary table of a results tree (default "results"; or one
experiment, e.g. results/baseline_mnist): for every tested class (rows; pair and
class, "1-7: 7", for conditional runs) and
configuration experiment/params (columns; params alone for one experiment), the
best value of the metric over epochs, averaged over seeds, with a row of column
means, a row "sd" (how far the seeds move a column's mean: the sample standard
deviation over the seeds that have all its classes of each seed's mean; shown
when a column has two such seeds), and a row naming the seeds each column
averages ("1 (2: 4/10)": seed 2 for 4 of its 10 classes); sd and seeds in the
text table only. -latex prints a booktabs LaTeX table instead. -transpose
swaps the text table's lines and columns: a line per configuration, a column
per class, then mean, sd and seeds; for sweeps with many configurations (the
few-shot experiments have 64).
A * marks cells with runs that stopped before trainer.max_epochs (interrupted or
still training); they are listed below the table.

Flags:
`

// tableMetrics are the metrics the table subcommand can show.
var tableMetrics = map[string]results.Metric{
	"auroc":              results.AUROC,
	"selection_accuracy": results.SelectionAccuracy,
}

func runTable(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("table", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	help := fset.Bool("h", false, "this help")
	latex := fset.Bool("latex", false, "print a booktabs LaTeX table")
	bold := fset.Bool("bold", true, "LaTeX: the best value of every row in bold")
	metricName := fset.String("metric", "auroc", "metric: auroc | selection_accuracy")
	caption := fset.String("caption", "", "LaTeX caption")
	label := fset.String("label", "", "LaTeX label")
	transpose := fset.Bool("transpose", false, "text table: a line per configuration, a column per class (for sweeps with many configurations)")
	pos, err := parseFlags("table", args, fset)
	if err != nil {
		return err
	}
	if *help {
		fmt.Fprint(stdout, tableUsage)
		fset.SetOutput(stdout)
		fset.PrintDefaults()
		return nil
	}
	metric, ok := tableMetrics[*metricName]
	if !ok {
		return usageError{fmt.Errorf("table: unknown metric %q (valid: auroc, selection_accuracy)", *metricName)}
	}
	if *transpose && *latex {
		return usageError{fmt.Errorf("table: -transpose applies to the text table only; drop it or -latex")}
	}
	if len(pos) > 1 {
		return usageError{fmt.Errorf("table: one results directory expected, got %q", pos)}
	}
	root := "results"
	if len(pos) == 1 {
		root = pos[0]
	}
	tab, err := results.Load(root)
	if err != nil {
		return err
	}
	cols, colsName := results.ByConfiguration, "configuration"
	if len(tab.Unique(results.ByExperiment)) == 1 {
		// One experiment: its name would repeat in every column.
		cols, colsName = results.ByParams, "params"
	}
	p, err := tab.MaxOverEpochs(metric).MeanOverSeeds().Pivot(results.ByTestSet, cols, metric)
	if err != nil {
		return fmt.Errorf("table: %s: %w", root, err)
	}
	progress, err := results.LoadProgress(root)
	if err != nil {
		return err
	}
	marked, unfinished := unfinishedCells(tab, progress, p, cols)
	note := ""
	if len(unfinished) > 0 {
		note = fmt.Sprintf("includes %d of %d runs stopped before trainer.max_epochs", len(unfinished), len(progress))
	}
	if *latex {
		fmt.Fprint(stdout, p.LaTeX(results.LaTeXOptions{Caption: *caption, Label: *label, BoldMax: *bold, MeanRow: true,
			Marked: marked, MarkNote: note}))
		printUnfinished(stderr, unfinished, note)
		return nil
	}
	// The text table as a grid of cells: a header line, a line per class,
	// then mean, sd and seeds; -transpose prints its columns as lines.
	grid := [][]string{append([]string{"class"}, p.ColLabels...)}
	row := func(label string, vals []float64, marks []bool) {
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "-"
			if !math.IsNaN(v) {
				cells[i] = fmt.Sprintf("%.4f", v)
			}
			if marks != nil && marks[i] {
				cells[i] += "*"
			}
		}
		grid = append(grid, append([]string{label}, cells...))
	}
	colMarked := make([]bool, len(p.ColLabels))
	for i, l := range p.RowLabels {
		row(l, p.Values[i], marked[i])
		for j, m := range marked[i] {
			colMarked[j] = colMarked[j] || m
		}
	}
	row("mean", p.ColumnMeans(), colMarked)
	seeds, complete := seedCells(tab, cols, p.ColLabels)
	if sd, ok := seedSpread(tab.MaxOverEpochs(metric), cols, metric, p.ColLabels, complete); ok {
		row("sd", sd, colMarked)
	}
	grid = append(grid, append([]string{"seeds"}, seeds...))
	if *transpose {
		grid = transposeCells(grid)
		grid[0][0] = colsName
		// Configurations read better left-aligned: pad them to one width.
		width := 0
		for _, line := range grid {
			width = max(width, utf8.RuneCountInString(line[0]))
		}
		for _, line := range grid {
			line[0] += strings.Repeat(" ", width-utf8.RuneCountInString(line[0]))
		}
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	for _, line := range grid {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(line, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printUnfinished(stdout, unfinished, note)
	return nil
}

// seedSpread is, per column of labels, the sample standard deviation over
// its complete seeds (complete[j]: those with every class of the column) of
// each seed's mean over the classes of best (max-over-epochs rows): how far
// the seed moves the column's mean. NaN for a column of fewer than two
// complete seeds; ok is false when no column has two.
func seedSpread(best results.Table, cols func(results.Row) string, metric results.Metric, labels []string, complete [][]int64) (sd []float64, ok bool) {
	label := func(s int64) string { return fmt.Sprint(s) }
	perSeed, err := best.Pivot(func(r results.Row) string { return label(r.Seed) }, cols, metric)
	if err != nil {
		return nil, false
	}
	// Keep, per column, the complete seeds' cells only, in labels' order.
	p := results.Pivot{RowLabels: perSeed.RowLabels, ColLabels: labels, Values: make([][]float64, len(perSeed.RowLabels))}
	for i, s := range perSeed.RowLabels {
		p.Values[i] = make([]float64, len(labels))
		for j, c := range labels {
			p.Values[i][j] = math.NaN()
			if k := slices.Index(perSeed.ColLabels, c); k >= 0 && slices.ContainsFunc(complete[j], func(cs int64) bool { return label(cs) == s }) {
				p.Values[i][j] = perSeed.Values[i][k]
			}
		}
	}
	sd = p.ColumnStds()
	return sd, slices.ContainsFunc(sd, func(v float64) bool { return !math.IsNaN(v) })
}

// seedCells names, per column, the seeds its means average: "1,2" when every
// class of the column has them, and a seed only some classes have with their
// share, "1 (2: 4/10)". complete[j] are column j's seeds that have every class.
func seedCells(tab results.Table, cols func(results.Row) string, labels []string) (cells []string, complete [][]int64) {
	classes := map[string]map[string]bool{}          // column → its classes
	bySeed := map[string]map[int64]map[string]bool{} // column → seed → its classes
	for _, r := range tab.Rows {
		c, k := cols(r), results.ByTestSet(r)
		if classes[c] == nil {
			classes[c], bySeed[c] = map[string]bool{}, map[int64]map[string]bool{}
		}
		if bySeed[c][r.Seed] == nil {
			bySeed[c][r.Seed] = map[string]bool{}
		}
		classes[c][k], bySeed[c][r.Seed][k] = true, true
	}
	out := make([]string, len(labels))
	complete = make([][]int64, len(labels))
	for j, c := range labels {
		var all []int64
		var partial []string
		for _, s := range slices.Sorted(maps.Keys(bySeed[c])) {
			if n := len(bySeed[c][s]); n < len(classes[c]) {
				partial = append(partial, fmt.Sprintf("%d: %d/%d", s, n, len(classes[c])))
			} else {
				all = append(all, s)
			}
		}
		complete[j] = all
		out[j] = results.JoinInts(all, ",")
		if len(partial) > 0 {
			out[j] = strings.TrimSpace(out[j] + " (" + strings.Join(partial, ", ") + ")")
		}
	}
	return out, complete
}

// unfinishedCells returns, for every cell of p, whether a run that stopped
// before its trainer.max_epochs contributes to it, and those runs.
func unfinishedCells(tab results.Table, progress []results.RunProgress, p results.Pivot, cols func(results.Row) string) ([][]bool, []results.RunProgress) {
	var unfinished []results.RunProgress
	for _, rp := range progress {
		if !rp.Finished() {
			unfinished = append(unfinished, rp)
		}
	}
	rowIndex, colIndex := map[string]int{}, map[string]int{}
	for i, l := range p.RowLabels {
		rowIndex[l] = i
	}
	for j, l := range p.ColLabels {
		colIndex[l] = j
	}
	marked := make([][]bool, len(p.RowLabels))
	for i := range marked {
		marked[i] = make([]bool, len(p.ColLabels))
	}
	for _, r := range tab.Rows {
		for _, rp := range unfinished {
			if rp.Matches(r) {
				i, okR := rowIndex[results.ByTestSet(r)]
				j, okC := colIndex[cols(r)]
				if okR && okC {
					marked[i][j] = true
				}
				break
			}
		}
	}
	return marked, unfinished
}

// transposeCells turns the lines of grid into its columns; every line of grid
// has the same length.
func transposeCells(grid [][]string) [][]string {
	if len(grid) == 0 {
		return nil
	}
	out := make([][]string, len(grid[0]))
	for j := range out {
		out[j] = make([]string, len(grid))
		for i, line := range grid {
			out[j][i] = line[j]
		}
	}
	return out
}

// printUnfinished lists the runs behind the * marks.
func printUnfinished(w io.Writer, unfinished []results.RunProgress, note string) {
	if len(unfinished) == 0 {
		return
	}
	fmt.Fprintf(w, "\n* %s (interrupted or still training; the same training command resumes them):\n", note)
	for _, rp := range unfinished {
		fmt.Fprintf(w, "  epoch %d of %d  %s\n", rp.LastEpoch, rp.MaxEpochs, rp.Dir)
	}
}
