package notebook

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/experiment"
)

// Budgets: the overlays of the experiment catalogue (experiment.Budget).
const (
	Quick = experiment.BudgetQuick // a few minutes per notebook on 2 CPU cores
	CPU   = experiment.BudgetCPU   // the thesis's hyper-parameters, 5 epochs, one seed; shipped results
	Full  = experiment.BudgetFull  // the thesis's scale (GPU)
)

// BudgetEnv is the environment variable that selects the budget.
const BudgetEnv = "CMEMAE_BUDGET"

// ResultsEnv overrides the results root.
const ResultsEnv = "CMEMAE_RESULTS_DIR"

// Budget returns the budget chosen by CMEMAE_BUDGET: a budget of the
// catalogue (quick, cpu, full); "quick" when unset, also for unknown values,
// with a warning on stderr.
func Budget() string {
	b := strings.ToLower(strings.TrimSpace(os.Getenv(BudgetEnv)))
	if b == "" {
		return Quick
	}
	if slices.Contains(experiment.BudgetNames(), b) {
		return b
	}
	fmt.Fprintf(os.Stderr, "notebook: %s=%q is not a budget (%s); using %q\n", BudgetEnv, b, strings.Join(experiment.BudgetNames(), ", "), Quick)
	return Quick
}

// Pick returns quick in the quick budget and full in the others.
func Pick[T any](budget string, quick, full T) T {
	if budget != Quick {
		return full
	}
	return quick
}

// RepoRoot is the repository root: the parent of the notebook's directory
// (GoNB's GONB_DIR) when it holds go.mod, else the first directory holding go.mod
// from the working directory upwards, else the working directory.
func RepoRoot() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		if root := filepath.Dir(filepath.Clean(d)); hasGoMod(root) {
			return root
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if hasGoMod(d) {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

func hasGoMod(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// ResultsRoot is the results root: $CMEMAE_RESULTS_DIR, else <repo>/results
// (the command line's default).
func ResultsRoot() string {
	if d := os.Getenv(ResultsEnv); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "results")
}

// ResultsDir is where the notebooks write the budget's runs, as the command
// line with budget=<b> does: ResultsRoot()/<budget>, or ResultsRoot() for
// full.
func ResultsDir(budget string) string {
	if budget == Full {
		return ResultsRoot()
	}
	return filepath.Join(ResultsRoot(), budget)
}
