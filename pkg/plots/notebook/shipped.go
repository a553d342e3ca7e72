package notebook

import (
	"os"
	"path/filepath"
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
// budget it was composed with (e.Budget) has shipped results holding the complete run (and its checkpoints,
// when needCheckpoints), else e.RunDir(targets), where the notebook trains.
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

// TrainedEpochs returns, for the rows of t and of any table derived from it
// (MaxOverEpochs, MeanOverSeeds), the number of epochs their run trained: the
// largest epoch of the same experiment, params and target in t, over its
// seeds. A column labelled with it keeps a run that is still training (or was
// stopped early) apart from the finished ones.
func TrainedEpochs(t results.Table) func(results.Row) int {
	key := func(r results.Row) string { return r.Experiment + "\x00" + r.Params + "\x00" + r.Target }
	last := map[string]int{}
	for _, r := range t.Rows {
		last[key(r)] = max(last[key(r)], r.Epoch)
	}
	return func(r results.Row) int { return last[key(r)] }
}

// RunSeeds returns, for the rows of t and of any table derived from it
// (MaxOverEpochs, MeanOverSeeds), the seeds their configuration (experiment
// and params) ran in t, as a label: "seed 1", "seeds 1, 2". A mean over seeds
// labelled with it says what it averages.
func RunSeeds(t results.Table) func(results.Row) string {
	seeds := t.Seeds(results.ByConfiguration)
	return func(r results.Row) string {
		s := seeds[results.ByConfiguration(r)]
		if len(s) == 1 {
			return "seed " + results.SeedList(s)
		}
		return "seeds " + results.SeedList(s)
	}
}

// NumRuns is the number of runs exps make (configurations × target groups),
// as the training cell will report them.
func NumRuns(exps []config.Experiment) int { return len(experiment.Plan(exps)) }
