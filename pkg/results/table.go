package results

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Table is a set of metric rows, typically every row of a results tree.
// Its methods return new tables and never modify the receiver.
type Table struct {
	Rows []Row
}

// Metric selects one value of a row.
type Metric func(Row) float64

// The metrics of a Row, for MaxOverEpochs, Pivot and friends.
var (
	AUROC             Metric = func(r Row) float64 { return r.AUROC }
	TrainLoss         Metric = func(r Row) float64 { return r.TrainLoss }
	MeanErrNormal     Metric = func(r Row) float64 { return r.MeanErrNormal }
	MeanErrAnomalous  Metric = func(r Row) float64 { return r.MeanErrAnomalous }
	SelectionAccuracy Metric = func(r Row) float64 { return r.SelectionAccuracy }
)

// Sentinels in aggregated rows.
const (
	// BestEpoch is the Epoch of rows produced by MaxOverEpochs.
	BestEpoch = -1
	// AllSeeds is the Seed of rows produced by MeanOverSeeds / OverSeeds.
	AllSeeds = -1
)

// Load reads every metrics.csv below root into one table, sorted by
// experiment, params, seed, target, condition and epoch. Rows whose
// experiment, params, seed or target columns are empty are completed from the
// run directory's path (see the package documentation for the layout).
func Load(root string) (Table, error) {
	var t Table
	err := walkMetrics(root, func(_ string, rows []Row) error {
		t.Rows = append(t.Rows, rows...)
		return nil
	})
	if err != nil {
		return Table{}, fmt.Errorf("results: loading %s: %w", root, err)
	}
	t.sort()
	return t, nil
}

// fillFromPath completes rows with empty identity columns from
// <root>/<experiment>/<params>/seed_<s>/target_<t>/metrics.csv.
func fillFromPath(rows []Row, root, path string) {
	rel, err := filepath.Rel(root, filepath.Dir(path))
	if err != nil {
		return
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if len(parts) < 4 {
		return
	}
	n := len(parts)
	exp, params, seedDir, targetDir := parts[n-4], parts[n-3], parts[n-2], parts[n-1]
	seed, seedErr := strconv.ParseInt(strings.TrimPrefix(seedDir, "seed_"), 10, 64)
	target := strings.TrimPrefix(targetDir, "target_")
	for i := range rows {
		r := &rows[i]
		if r.Experiment == "" {
			r.Experiment = exp
		}
		if r.Params == "" {
			r.Params = params
		}
		if r.Target == "" {
			r.Target = target
		}
		if seedErr == nil && r.Seed == 0 && strings.HasPrefix(seedDir, "seed_") {
			r.Seed = seed
		}
	}
}

func compareRows(a, b Row) int {
	return cmp.Or(
		strings.Compare(a.Experiment, b.Experiment),
		strings.Compare(a.Params, b.Params),
		cmp.Compare(a.Seed, b.Seed),
		compareNatural(a.Target, b.Target),
		cmp.Compare(a.Condition, b.Condition),
		cmp.Compare(a.Epoch, b.Epoch),
	)
}

func (t *Table) sort() { slices.SortStableFunc(t.Rows, compareRows) }

// Len is the number of rows.
func (t Table) Len() int { return len(t.Rows) }

// Filter keeps the rows for which keep returns true.
func (t Table) Filter(keep func(Row) bool) Table {
	var out Table
	for _, r := range t.Rows {
		if keep(r) {
			out.Rows = append(out.Rows, r)
		}
	}
	return out
}

// Values returns metric for every row, in row order.
func (t Table) Values(metric Metric) []float64 {
	out := make([]float64, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = metric(r)
	}
	return out
}

// GroupBy splits the table by key. The keys are returned in natural order
// (numbers numerically, "2" before "10").
func (t Table) GroupBy(key func(Row) string) (keys []string, groups map[string]Table) {
	groups = make(map[string]Table)
	for _, r := range t.Rows {
		k := key(r)
		g, ok := groups[k]
		if !ok {
			keys = append(keys, k)
		}
		g.Rows = append(g.Rows, r)
		groups[k] = g
	}
	slices.SortFunc(keys, compareNatural)
	return keys, groups
}

// Keys commonly used with GroupBy and Pivot.
var (
	ByExperiment = func(r Row) string { return r.Experiment }
	ByParams     = func(r Row) string { return r.Params }
	// ByConfiguration is experiment/params: one column of the thesis's heatmaps.
	ByConfiguration = func(r Row) string { return r.Experiment + "/" + r.Params }
	ByTarget        = func(r Row) string { return r.Target }
	ByCondition     = func(r Row) string { return strconv.Itoa(r.Condition) }
	// ByTestSet is the test set of a row: its tested class, and for a run
	// on several classes (a conditional run on a pair) the pair too, "1-7: 7",
	// as class 1 of the pairs 0-1 and 1-7 is two different results.
	ByTestSet = func(r Row) string {
		if strings.Contains(r.Target, "-") {
			return r.Target + ": " + strconv.Itoa(r.Condition)
		}
		return strconv.Itoa(r.Condition)
	}
	BySeed  = func(r Row) string { return strconv.FormatInt(r.Seed, 10) }
	ByEpoch = func(r Row) string { return strconv.Itoa(r.Epoch) }
)

// Unique returns the distinct keys of the rows, in natural order.
func (t Table) Unique(key func(Row) string) []string {
	keys, _ := t.GroupBy(key)
	return keys
}

// runKey identifies one tested class of one run.
func runKey(r Row) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%d", r.Experiment, r.Params, r.Seed, r.Target, r.Condition)
}

// MaxOverEpochs keeps, for every run and tested class, the row of the epoch
// with the largest metric (the first such epoch on ties; NaN values are
// skipped). The kept rows have Epoch = BestEpoch; use BestEpochs for the epoch
// numbers. This is the "max over epochs" of the thesis's heatmaps.
func (t Table) MaxOverEpochs(metric Metric) Table {
	best := t.bestRows(metric)
	for i := range best.Rows {
		best.Rows[i].Epoch = BestEpoch
	}
	return best
}

// BestEpochs is MaxOverEpochs keeping the epoch at which each maximum was reached.
func (t Table) BestEpochs(metric Metric) Table { return t.bestRows(metric) }

func (t Table) bestRows(metric Metric) Table {
	index := map[string]int{}
	var out Table
	for _, r := range t.Rows {
		v := metric(r)
		k := runKey(r)
		i, ok := index[k]
		if !ok {
			index[k] = len(out.Rows)
			out.Rows = append(out.Rows, r)
			continue
		}
		cur := metric(out.Rows[i])
		if !math.IsNaN(v) && (math.IsNaN(cur) || v > cur || (v == cur && r.Epoch < out.Rows[i].Epoch)) {
			out.Rows[i] = r
		}
	}
	out.sort()
	return out
}

// MeanOverSeeds averages every metric over the seeds of otherwise identical
// rows (same experiment, params, target, condition and epoch). The result has
// Seed = AllSeeds. NaN values are left out of the means.
func (t Table) MeanOverSeeds() Table { return t.OverSeeds(Mean) }

// OverSeeds is MeanOverSeeds with another aggregate, e.g. Std.
func (t Table) OverSeeds(agg func([]float64) float64) Table {
	key := func(r Row) string {
		return fmt.Sprintf("%s\x00%s\x00%s\x00%d\x00%d", r.Experiment, r.Params, r.Target, r.Condition, r.Epoch)
	}
	index := map[string]int{}
	var groups [][]Row
	for _, r := range t.Rows {
		k := key(r)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	out := Table{Rows: make([]Row, len(groups))}
	for i, g := range groups {
		col := func(m Metric) float64 {
			vals := make([]float64, len(g))
			for j, r := range g {
				vals[j] = m(r)
			}
			return agg(vals)
		}
		r := g[0]
		r.Seed = AllSeeds
		r.TrainLoss = col(TrainLoss)
		r.AUROC = col(AUROC)
		r.MeanErrNormal = col(MeanErrNormal)
		r.MeanErrAnomalous = col(MeanErrAnomalous)
		r.SelectionAccuracy = col(SelectionAccuracy)
		out.Rows[i] = r
	}
	out.sort()
	return out
}

// Mean is the mean of the non-NaN values (NaN if there are none).
func Mean(vals []float64) float64 {
	sum, n := 0.0, 0
	for _, v := range vals {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Std is the sample standard deviation (n−1) of the non-NaN values; 0 for a
// single value, NaN for none.
func Std(vals []float64) float64 {
	m := Mean(vals)
	if math.IsNaN(m) {
		return m
	}
	ss, n := 0.0, 0
	for _, v := range vals {
		if !math.IsNaN(v) {
			ss += (v - m) * (v - m)
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return math.Sqrt(ss / float64(n-1))
}

// ErrNoRows is returned by Pivot for an empty table.
var ErrNoRows = errors.New("results: no rows")

// compareNatural orders strings with their embedded numbers compared by
// value: "2" < "10", "1-7" < "4-5", "seed_2" < "seed_10", and decimals too,
// "0.0025" < "0.005" < "0.01" (a swept λ or learning rate).
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		na, nb := numberPrefix(a), numberPrefix(b)
		if na > 0 && nb > 0 {
			if c := compareNumbers(a[:na], b[:nb]); c != 0 {
				return c
			}
			a, b = a[na:], b[nb:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

// numberPrefix is the length of the number s starts with: its digits, and a
// fraction when a '.' and a digit follow them.
func numberPrefix(s string) int {
	i := digitPrefix(s)
	if i > 0 && i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i += 1 + digitPrefix(s[i+1:])
	}
	return i
}

// compareNumbers compares two unsigned decimals exactly, of any length: the
// integer parts by value, then the fractions digit by digit.
func compareNumbers(a, b string) int {
	ia, fa, _ := strings.Cut(a, ".")
	ib, fb, _ := strings.Cut(b, ".")
	ia, ib = strings.TrimLeft(ia, "0"), strings.TrimLeft(ib, "0")
	if c := cmp.Or(cmp.Compare(len(ia), len(ib)), strings.Compare(ia, ib)); c != 0 {
		return c
	}
	return strings.Compare(strings.TrimRight(fa, "0"), strings.TrimRight(fb, "0"))
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// walkMetrics calls fn with the rows of every metrics.csv below root (identity
// columns completed from its path; checkpoint and hidden directories skipped), in
// WalkDir's order.
func walkMetrics(root string, fn func(path string, rows []Row) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == CheckpointsDir || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir // checkpoints, and work in progress (a run being copied)
		}
		if d.IsDir() || d.Name() != MetricsFile {
			return nil
		}
		rows, err := ReadCSV(path)
		if err != nil {
			return err
		}
		fillFromPath(rows, root, path)
		return fn(path, rows)
	})
}
