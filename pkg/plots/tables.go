package plots

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cmemae/cmemae/pkg/results"
)

// EpochSeries turns a results table into one line per key (e.g. per class with
// results.ByCondition, or per configuration with results.ByConfiguration): X is
// the epoch, Y the metric averaged over the rows sharing key and epoch (seeds,
// tested classes). NaN values are left out of the means. The series are in the
// keys' natural order and named name(key) (nil → the key itself).
func EpochSeries(t results.Table, key func(results.Row) string, metric results.Metric, name func(string) string) ([]Series, error) {
	if t.Len() == 0 {
		return nil, errors.New("plots: EpochSeries: empty table")
	}
	keys, groups := t.GroupBy(key)
	out := make([]Series, 0, len(keys))
	for _, k := range keys {
		epochs, byEpoch := groups[k].GroupBy(results.ByEpoch)
		ep := make([]int, 0, len(epochs))
		for _, e := range epochs {
			n, err := strconv.Atoi(e)
			if err != nil {
				return nil, fmt.Errorf("plots: EpochSeries: epoch %q: %w", e, err)
			}
			ep = append(ep, n)
		}
		slices.Sort(ep)
		s := Series{Name: k}
		if name != nil {
			s.Name = name(k)
		}
		for _, e := range ep {
			s.X = append(s.X, float64(e))
			s.Y = append(s.Y, results.Mean(byEpoch[strconv.Itoa(e)].Values(metric)))
		}
		out = append(out, s)
	}
	return out, nil
}

// PivotHeatmap draws a results.Pivot (e.g. Table.ClassByConfiguration) as an
// annotated heatmap with a colour bar; the chart's Values and labels are taken
// from p, the other fields from c.
func PivotHeatmap(p results.Pivot, c HeatmapChart) (*Figure, error) {
	c.Values, c.RowLabels, c.ColLabels = p.Values, p.RowLabels, p.ColLabels
	return Heatmap(c)
}

// PivotRows formats a Pivot as table rows (row label, then one cell per column
// with format, "–" for NaN), optionally followed by a row of column means.
func PivotRows(p results.Pivot, format string, meanRow bool) (header []string, rows [][]string) {
	header = append([]string{""}, p.ColLabels...)
	for i, l := range p.RowLabels {
		r := []string{l}
		for _, v := range p.Values[i] {
			r = append(r, FormatFloat(format, v))
		}
		rows = append(rows, r)
	}
	if meanRow {
		r := []string{"mean"}
		for _, v := range p.ColumnMeans() {
			r = append(r, FormatFloat(format, v))
		}
		rows = append(rows, r)
	}
	return header, rows
}

// ShowPivot shows a Pivot as an HTML table in the notebook, corner naming the
// row-label column (e.g. "class").
func ShowPivot(caption, corner string, p results.Pivot, format string, meanRow bool) {
	header, rows := PivotRows(p, format, meanRow)
	header[0] = corner
	ShowTable(caption, header, rows)
}

// ResultsRows formats the rows of a results table (at most limit rows when
// limit > 0) under the metrics.csv column names.
func ResultsRows(t results.Table, limit int) (header []string, rows [][]string) {
	header = []string{"experiment", "params", "seed", "target", "condition", "epoch", "train_loss", "auroc", "mean_err_normal", "mean_err_anomalous", "selection_accuracy"}
	for i, r := range t.Rows {
		if limit > 0 && i >= limit {
			break
		}
		rows = append(rows, []string{r.Experiment, r.Params, strconv.FormatInt(r.Seed, 10), r.Target, strconv.Itoa(r.Condition), strconv.Itoa(r.Epoch),
			FormatFloat("%.4f", r.TrainLoss), FormatFloat("%.4f", r.AUROC), FormatFloat("%.4f", r.MeanErrNormal),
			FormatFloat("%.4f", r.MeanErrAnomalous), FormatFloat("%.3f", r.SelectionAccuracy)})
	}
	return header, rows
}

// ShowResults shows the rows of a results table as an HTML table (at most limit
// rows when limit > 0).
func ShowResults(caption string, t results.Table, limit int) {
	header, rows := ResultsRows(t, limit)
	if limit > 0 && t.Len() > limit {
		caption = fmt.Sprintf("%s (first %d of %d rows)", caption, limit, t.Len())
	}
	ShowTable(caption, header, rows)
}
