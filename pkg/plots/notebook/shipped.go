package notebook

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// ShippedEnv overrides the folder that holds the shipped results
// (results-<budget>-budget, one per budget that has some).
const ShippedEnv = "CMEMAE_SHIPPED_DIR"

// ShippedDir is the folder of results shipped with the repository for the
// budget: <repo>/notebooks/results-<budget>-budget ($CMEMAE_SHIPPED_DIR in
// place of <repo>/notebooks), a results tree as the command line writes it
// (<name>/<params>/seed_<s>/target_<t>/{config.yaml,metrics.csv}) with a
// README.md naming the commit and command. The cpu budget ships every run
// notebooks 01–04 draw; the full budget the runs trained so far. It returns
// "" when the folder is absent. The notebooks only read it.
func ShippedDir(budget string) string {
	if budget == "" {
		return ""
	}
	root := os.Getenv(ShippedEnv)
	if root == "" {
		root = filepath.Join(RepoRoot(), "notebooks")
	}
	d := filepath.Join(root, "results-"+budget+"-budget")
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		return ""
	}
	return d
}

// RunDir is the directory to read a run from: its shipped copy when the
// budget it was composed with (e.Budget) has shipped results holding the
// complete run (and its checkpoints, when needCheckpoints), else
// e.RunDir(targets), where the notebook trains.
func RunDir(e config.Experiment, targets []int, needCheckpoints bool) string {
	own := e.RunDir(targets)
	shipped := ShippedDir(e.Budget)
	if shipped == "" {
		return own
	}
	rel, err := filepath.Rel(e.ResultsDir, own)
	if err != nil {
		return own
	}
	dir := filepath.Join(shipped, rel)
	if !(experiment.Run{Experiment: e, Targets: targets, Dir: dir}).Complete() {
		return own
	}
	if needCheckpoints {
		// Shipped runs hold their epoch checkpoints' weights (export
		// -checkpoints), without "last".
		if _, ok, err := train.LatestCheckpoint(dir); err != nil || !ok {
			return own
		}
	}
	return dir
}

// IsShipped reports whether dir lies in the budget's shipped results.
func IsShipped(budget, dir string) bool {
	s := ShippedDir(budget)
	if s == "" {
		return false
	}
	rel, err := filepath.Rel(s, dir)
	return err == nil && filepath.IsLocal(rel)
}

// Overlay returns base with other's rows appended, their experiment names
// suffixed " (<budget>)", so that curves of another budget (e.g. a quick
// re-run) are drawn beside the shipped ones: group by results.ByExperiment
// or by a label that includes the experiment.
func Overlay(base, other results.Table, budget string) results.Table {
	out := results.Table{Rows: append([]results.Row(nil), base.Rows...)}
	for _, r := range other.Rows {
		r.Experiment += " (" + budget + ")"
		out.Rows = append(out.Rows, r)
	}
	return out
}

// OverlaidBudget is the budget Overlay appended to a row's experiment name,
// or "" for a row of the base table.
func OverlaidBudget(r results.Row) string {
	if _, b, ok := strings.Cut(r.Experiment, " ("); ok {
		return strings.TrimSuffix(b, ")")
	}
	return ""
}

// class is one tested class of a configuration (experiment and params).
type class struct{ config, target string }

func classOf(r results.Row) class { return class{results.ByConfiguration(r), r.Target} }

// lastEpochs returns, per class of t, the last epoch of each seed's run.
func lastEpochs(t results.Table) map[class]map[int64]int {
	last := map[class]map[int64]int{}
	for _, r := range t.Rows {
		c := classOf(r)
		if last[c] == nil {
			last[c] = map[int64]int{}
		}
		last[c][r.Seed] = max(last[c][r.Seed], r.Epoch)
	}
	return last
}

// Trained returns, for the rows of t and of any table derived from it
// (MaxOverEpochs, MeanOverSeeds), what their runs trained in t: the epochs
// and seeds of the same experiment, params and target, "100 epochs · seeds
// 1, 2", or "epochs 100, 30 · seeds 1, 2" when the seeds reached different
// epochs. A column labelled with it keeps runs still training (or stopped
// early), and classes missing a seed, apart from the finished ones, and says
// what a mean over seeds averages.
func Trained(t results.Table) func(results.Row) string {
	last := lastEpochs(t)
	labels := make(map[class]string, len(last))
	for c, bySeed := range last {
		seeds := slices.Sorted(maps.Keys(bySeed))
		epochs := make([]int, len(seeds))
		for i, s := range seeds {
			epochs[i] = bySeed[s]
		}
		seedWord := "seed "
		if len(seeds) > 1 {
			seedWord = "seeds "
		}
		ep := fmt.Sprintf("%d epochs", epochs[0])
		if slices.ContainsFunc(epochs, func(e int) bool { return e != epochs[0] }) {
			ep = "epochs " + results.JoinInts(epochs, ", ")
		}
		labels[c] = ep + " · " + seedWord + results.JoinInts(seeds, ", ")
	}
	return func(r results.Row) string { return labels[classOf(r)] }
}

// Comparable keeps the classes that every seed of their configuration
// (experiment and params) finished: those whose runs include each of the
// configuration's seeds, each at the configuration's largest epoch. Means
// over classes per seed then average the same classes, trained as long.
func Comparable(t results.Table) results.Table {
	last := lastEpochs(t)
	seeds := map[string]map[int64]bool{} // configuration → its seeds
	epochs := map[string]int{}           // configuration → its largest epoch
	for c, bySeed := range last {
		if seeds[c.config] == nil {
			seeds[c.config] = map[int64]bool{}
		}
		for s, e := range bySeed {
			seeds[c.config][s] = true
			epochs[c.config] = max(epochs[c.config], e)
		}
	}
	return t.Filter(func(r results.Row) bool {
		c := classOf(r)
		for s := range seeds[c.config] {
			if last[c][s] != epochs[c.config] {
				return false
			}
		}
		return true
	})
}

// PerSeed is how far seeds move the mean over classes: the max-over-epochs
// AUROC averaged over the classes (for conditional runs, the pair: class
// cells), a row per seed ("seed 1") and a column per config(row); with two
// seeds or more, then a row "mean" and a row "sd" (the sample standard
// deviation over the seeds, n−1; NaN for a configuration of one seed). Only the classes every seed of a
// configuration finished count ([Comparable]), so every row averages the
// same classes, trained as long.
func PerSeed(t results.Table, config func(results.Row) string) (results.Pivot, error) {
	seed := func(row results.Row) string { return fmt.Sprintf("seed %d", row.Seed) }
	p, err := Comparable(t).MaxOverEpochs(results.AUROC).Pivot(seed, config, results.AUROC)
	if err != nil || len(p.RowLabels) < 2 {
		return p, err
	}
	sd := p.ColumnStds()
	p.RowLabels = append(p.RowLabels, "mean", "sd")
	p.Values = append(p.Values, p.ColumnMeans(), sd)
	return p, nil
}

// NumRuns is the number of runs exps make (configurations × target groups),
// as the training cell will report them.
func NumRuns(exps []config.Experiment) int { return len(experiment.Plan(exps)) }

// NumTrainings is the number of trainings the runs of exps need: runs that
// differ only in how they are evaluated (conditional known and unknown, the
// selection metric) share one (experiment.Groups).
func NumTrainings(exps []config.Experiment) int { return len(experiment.Groups(experiment.Plan(exps))) }
