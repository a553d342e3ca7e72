package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/cmemae/cmemae/pkg/results"
)

const tableUsage = `Usage: go run ./thesis_experiments table [flags] [results directory]

Prints the thesis's summary table of a results tree (default "results"; or one
experiment, e.g. results/baseline_mnist): for every tested class (rows) and
configuration experiment/params (columns; params alone for one experiment), the best value of the metric over
epochs, averaged over seeds, with a row of column means. -latex prints a
booktabs LaTeX table instead.

Flags:
`

// tableMetrics are the metrics the table subcommand can show.
var tableMetrics = map[string]results.Metric{
	"auroc":              results.AUROC,
	"selection_accuracy": results.SelectionAccuracy,
}

func runTable(_ context.Context, args []string, stdout, _ io.Writer) error {
	fset := flag.NewFlagSet("table", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	help := fset.Bool("h", false, "this help")
	latex := fset.Bool("latex", false, "print a booktabs LaTeX table")
	bold := fset.Bool("bold", true, "LaTeX: the best value of every row in bold")
	metricName := fset.String("metric", "auroc", "metric: auroc | selection_accuracy")
	caption := fset.String("caption", "", "LaTeX caption")
	label := fset.String("label", "", "LaTeX label")
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
	cols := results.ByConfiguration
	if len(tab.Unique(results.ByExperiment)) == 1 {
		cols = results.ByParams // one experiment: its name would repeat in every column
	}
	p, err := tab.MaxOverEpochs(metric).MeanOverSeeds().Pivot(results.ByCondition, cols, metric)
	if err != nil {
		return fmt.Errorf("table: %s: %w", root, err)
	}
	if *latex {
		fmt.Fprint(stdout, p.LaTeX(results.LaTeXOptions{Caption: *caption, Label: *label, BoldMax: *bold, MeanRow: true}))
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "class\t%s\t\n", strings.Join(p.ColLabels, "\t"))
	row := func(label string, vals []float64) {
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "-"
			if !math.IsNaN(v) {
				cells[i] = fmt.Sprintf("%.4f", v)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", label, strings.Join(cells, "\t"))
	}
	for i, l := range p.RowLabels {
		row(l, p.Values[i])
	}
	row("mean", p.ColumnMeans())
	return tw.Flush()
}
