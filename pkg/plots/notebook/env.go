package notebook

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Budgets.
const (
	Quick = "quick" // a few minutes on 2 CPU cores
	Full  = "full"  // the thesis's scale (GPU)
)

// BudgetEnv is the environment variable that selects the budget.
const BudgetEnv = "CMEMAE_BUDGET"

// ResultsEnv overrides the results root.
const ResultsEnv = "CMEMAE_RESULTS_DIR"

// Budget returns the budget chosen by CMEMAE_BUDGET: "full" or "quick" (the
// default, also for unknown values, with a warning on stderr).
func Budget() string {
	b := strings.ToLower(strings.TrimSpace(os.Getenv(BudgetEnv)))
	switch b {
	case Full:
		return Full
	case "", Quick:
		return Quick
	}
	fmt.Fprintf(os.Stderr, "notebook: %s=%q is neither %q nor %q; using %q\n", BudgetEnv, b, Quick, Full, Quick)
	return Quick
}

// Pick returns quick or full depending on the budget.
func Pick[T any](budget string, quick, full T) T {
	if budget == Full {
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

// ResultsDir is the results root for the budget: $CMEMAE_RESULTS_DIR, else
// <repo>/results (full) or <repo>/results/quick (quick).
func ResultsDir(budget string) string {
	if d := os.Getenv(ResultsEnv); d != "" {
		return d
	}
	if budget == Full {
		return filepath.Join(RepoRoot(), "results")
	}
	return filepath.Join(RepoRoot(), "results", "quick")
}
