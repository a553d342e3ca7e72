package experiment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// Twins indexes finished runs, so that a run need not train again when a run
// of another experiment (or params directory) trained and was evaluated
// exactly alike: the same resolved configuration, seed and targets, differing
// only in its name (experiment, params, results_dir), and evaluated on the
// same test images. Training is deterministic, so such a twin's metrics and
// checkpoints are the ones the run would produce (on the same backend; across
// backends, within floating-point noise). A sweep's default value is the
// usual case: experiment=sweep_cosine's cosine_similarity=true runs are
// baseline_mnist's flat MemAE runs.
//
// Driver.Train copies a twin (train.CopyRun) instead of training a run that
// has not started.
type Twins struct {
	// NeedCheckpoints skips twins without checkpoints (exported results), for
	// runs whose checkpoints will be analysed.
	NeedCheckpoints bool

	byKey map[string][]twin
}

// twin is one indexed run.
type twin struct {
	dir string
	e   config.Experiment
}

// FindTwins indexes the runs under the results directories roots: every
// <root>/<experiment>/<params>/seed_<s>/target_<t> with a config.yaml. Roots
// that do not exist or are not directories hold no runs; a directory below
// a root that cannot be read, or a config.yaml that cannot, is skipped (its
// runs are no one's twins).
func FindTwins(roots ...string) (*Twins, error) {
	t := &Twins{byKey: map[string][]twin{}}
	seen := map[string]bool{}
	for _, root := range roots {
		if root == "" || seen[filepath.Clean(root)] {
			continue
		}
		seen[filepath.Clean(root)] = true
		dirs, err := runDirs(root)
		if err != nil {
			return nil, fmt.Errorf("experiment: looking for finished runs in %s: %w", root, err)
		}
		for _, dir := range dirs {
			path := filepath.Join(dir, results.ConfigFile)
			raw, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			e, err := config.ReadExperiment(path)
			if err != nil || len(e.Datamodule.Targets) != 1 {
				continue
			}
			k := twinKey(e, e.Datamodule.Targets[0], train.ConfigMaxTestImages(raw))
			t.byKey[k] = append(t.byKey[k], twin{dir: dir, e: e})
		}
	}
	return t, nil
}

// runDirs lists root/*/*/seed_*/target_* directories, in name order.
func runDirs(root string) ([]string, error) {
	levels := []string{"", "", "seed_", "target_"}
	dirs := []string{root}
	for _, prefix := range levels {
		var next []string
		for _, d := range dirs {
			entries, err := os.ReadDir(d)
			if err != nil {
				if d == root && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
					return nil, nil // no runs (training reports a results_dir that is a file)
				}
				if d == root {
					return nil, err
				}
				continue
			}
			for _, e := range entries {
				n := e.Name()
				if e.IsDir() && !strings.HasPrefix(n, ".") && strings.HasPrefix(n, prefix) {
					next = append(next, filepath.Join(d, n))
				}
			}
		}
		dirs = next
	}
	return dirs, nil
}

// twinKey is what twins share: the configuration without its names, with
// datamodule.targets narrowed to the run's, and the test subset size
// (train.Options.MaxTestImages, 0 for whole test sets).
func twinKey(e config.Experiment, targets []int, maxTestImages int) string {
	e.Name, e.ResultsDir, e.Params, e.Budget = "", "", nil, ""
	e.Datamodule.Targets = config.Targets{targets}
	doc, err := e.YAML()
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s\nmax_test_images=%d", doc, maxTestImages)
}

// Of returns the directory of a complete twin of run, evaluated on test
// subsets of maxTestImages images (0: whole test sets), if the index holds
// one (the first in the order of FindTwins' roots and of names) and run has
// not started: a run with a metrics.csv resumes instead.
func (t *Twins) Of(run Run, maxTestImages int) (dir string, ok bool) {
	if t == nil {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(run.Dir, results.MetricsFile)); err == nil {
		return "", false
	}
	k := twinKey(run.Experiment, run.Targets, maxTestImages)
	for _, c := range t.byKey[k] {
		if filepath.Clean(c.dir) == filepath.Clean(run.Dir) {
			continue
		}
		if t.NeedCheckpoints {
			if cps, err := train.ListCheckpoints(c.dir); err != nil || len(cps) == 0 {
				continue
			}
		}
		if (Run{Experiment: c.e, Targets: run.Targets, Dir: c.dir}).Complete() {
			return c.dir, true
		}
	}
	return "", false
}
