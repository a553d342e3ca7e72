package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

const exportUsage = `Usage: go run ./thesis_experiments export [-checkpoints[=last|=EPOCHS]] <results directory> <destination>

Copies the finished runs of a results tree (every run directory below it whose
metrics.csv reaches its config's trainer.max_epochs) into destination, keeping
their paths relative to the results directory: config.yaml and metrics.csv, and
with -checkpoints every epoch checkpoint's model weights (no optimiser state:
about a third of the size; enough for analyses and from_checkpoint, not for
resuming), with -checkpoints=last only the last epoch's, with a list such as
-checkpoints=0,1,5,20,last those epochs' (0 is init). When a MemAE's
checkpoints are left out, the memory change between all of them (notebook 04's
first figures) is kept in memory_change.csv. This is how
notebooks/results-cpu-budget and notebooks/results-full-budget were made:

  go run ./thesis_experiments export results/cpu notebooks/results-cpu-budget
  go run ./thesis_experiments export -checkpoints results/cpu/memory_analysis_mnist \
      notebooks/results-cpu-budget/memory_analysis_mnist
  go run ./thesis_experiments export results/baseline_mnist notebooks/results-full-budget/baseline_mnist
  go run ./thesis_experiments export -checkpoints=last 'results/baseline_mnist/model=memae,model.arch=mnist-flat/seed_1' \
      'notebooks/results-full-budget/baseline_mnist/model=memae,model.arch=mnist-flat/seed_1'
  go run ./thesis_experiments export -checkpoints=1,last results/memory_analysis_mnist \
      notebooks/results-full-budget/memory_analysis_mnist

Unfinished runs are listed and skipped. A listed epoch that a run has no
checkpoint of stops the export before anything is written. Files already in
the destination are replaced, each atomically.

Flags:
`

func runExport(_ context.Context, args []string, stdout, _ io.Writer) error {
	fset := flag.NewFlagSet("export", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	help := fset.Bool("h", false, "this help")
	var checkpoints checkpointsFlag
	fset.Var(&checkpoints, "checkpoints", "also export every epoch checkpoint's model weights (=last: only the last epoch's; =0,1,5,last: those epochs', 0 for init)")
	pos, err := parseFlags("export", args, fset)
	if err != nil {
		return err
	}
	if *help {
		fmt.Fprint(stdout, exportUsage)
		fset.SetOutput(stdout)
		fset.PrintDefaults()
		return nil
	}
	if len(pos) != 2 {
		return usageError{fmt.Errorf("export: a results directory and a destination expected, got %q (see export -h)", pos)}
	}
	src, dst := filepath.Clean(pos[0]), filepath.Clean(pos[1])
	if rel, err := filepath.Rel(src, dst); err == nil && !strings.HasPrefix(rel, "..") {
		return usageError{fmt.Errorf("export: destination %s lies inside the results directory %s; pick a folder outside it", dst, src)}
	}
	progress, err := results.LoadProgress(src)
	if err != nil {
		return err
	}
	if len(progress) == 0 {
		return fmt.Errorf("export: no runs (metrics.csv) below %s", src)
	}
	// Pick every run's checkpoints and compute the memory changes to keep
	// first, so that an epoch some run lacks, or a checkpoint that does not
	// load, stops the export before anything is written.
	type exportRun struct {
		dir, out string
		cps      []train.CheckpointInfo
		// The memory change between all the run's checkpoints, for
		// train.MemoryChangeFile, when checkpoints of a memory model are
		// left out.
		epochs  []int
		changes [][]float64
	}
	var runs []exportRun
	var unfinished, bare []string
	for _, p := range progress {
		if !p.Finished() {
			unfinished = append(unfinished, fmt.Sprintf("  epoch %d of %d  %s", p.LastEpoch, p.MaxEpochs, p.Dir))
			continue
		}
		rel, err := filepath.Rel(src, p.Dir)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		r := exportRun{dir: p.Dir, out: filepath.Join(dst, rel)}
		if checkpoints.none() {
			runs = append(runs, r)
			continue
		}
		all, err := train.ListCheckpoints(p.Dir)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if len(all) == 0 {
			bare = append(bare, "  "+p.Dir)
		}
		if r.cps, err = checkpoints.pick(all); err != nil {
			return fmt.Errorf("export: %s: %w", p.Dir, err)
		}
		if len(r.cps) < len(all) && len(all) >= 2 {
			ck, err := train.LoadCheckpoint(all[0].Dir)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if ck.Model.HasMemory() {
				if r.epochs, r.changes, err = train.MemoryChanges(p.Dir); err != nil {
					return fmt.Errorf("export: %w", err)
				}
			}
		}
		runs = append(runs, r)
	}
	var ckpts, memChanges int
	for _, r := range runs {
		for _, name := range []string{results.ConfigFile, results.MetricsFile} {
			if err := copyFileAtomic(filepath.Join(r.dir, name), filepath.Join(r.out, name)); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		for _, cp := range r.cps {
			if err := train.ExportWeights(cp.Dir, r.out); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		ckpts += len(r.cps)
		switch {
		case r.changes != nil:
			if err := train.WriteMemoryChanges(r.out, r.epochs, r.changes); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			memChanges++
		case !checkpoints.none():
			// Every checkpoint went along: one from an earlier export that
			// left some out would stand for them.
			if err := os.Remove(filepath.Join(r.out, train.MemoryChangeFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("export: %w", err)
			}
		}
	}
	fmt.Fprintf(stdout, "exported %d runs (%d checkpoints) from %s to %s\n", len(runs), ckpts, src, dst)
	if memChanges > 0 {
		fmt.Fprintf(stdout, "%d runs keep the memory change between all their checkpoints in %s\n", memChanges, train.MemoryChangeFile)
	}
	if len(unfinished) > 0 {
		fmt.Fprintf(stdout, "skipped %d unfinished runs:\n%s\n", len(unfinished), strings.Join(unfinished, "\n"))
	}
	if len(bare) > 0 {
		fmt.Fprintf(stdout, "%d runs have no checkpoint to export (their config.yaml and metrics.csv were):\n%s\n",
			len(bare), strings.Join(bare, "\n"))
	}
	return nil
}

// checkpointsFlag is export's -checkpoints: none (absent or =false), all
// (-checkpoints, =true, =all), last (=last), or a list of epochs (0 for
// init) that may end in last (=0,1,5,20,last).
type checkpointsFlag struct {
	set, all, last bool
	epochs         []int
	text           string
}

func (f *checkpointsFlag) String() string { return f.text }

// IsBoolFlag lets -checkpoints stand alone (meaning all).
func (f *checkpointsFlag) IsBoolFlag() bool { return true }

func (f *checkpointsFlag) Set(v string) error {
	*f = checkpointsFlag{set: true, text: v}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "all":
		f.all = true
		return nil
	case "false", "none":
		f.set = false
		return nil
	}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		if strings.EqualFold(item, "last") {
			f.last = true
			continue
		}
		e, err := strconv.Atoi(item)
		if err != nil || e < 0 {
			return fmt.Errorf("-checkpoints=%s: %q is not an epoch; give -checkpoints (every epoch's), -checkpoints=last (the last epoch's) "+
				"or a list of epochs, 0 for init (-checkpoints=0,1,5,20,last)", v, item)
		}
		f.epochs = append(f.epochs, e)
	}
	return nil
}

// none reports whether no checkpoint is exported.
func (f checkpointsFlag) none() bool { return !f.set }

// pick returns the checkpoints of a run (all, by epoch) that the flag asks
// for, or an error naming an epoch the run has no checkpoint of.
func (f checkpointsFlag) pick(all []train.CheckpointInfo) ([]train.CheckpointInfo, error) {
	if f.all || len(all) == 0 {
		return all, nil
	}
	var out []train.CheckpointInfo
	for _, cp := range all {
		if slices.Contains(f.epochs, cp.Epoch) || (f.last && cp.Epoch == all[len(all)-1].Epoch) {
			out = append(out, cp)
		}
	}
	for _, e := range f.epochs {
		if !slices.ContainsFunc(all, func(cp train.CheckpointInfo) bool { return cp.Epoch == e }) {
			names := make([]string, len(all))
			for i, cp := range all {
				names[i] = cp.Name
			}
			return nil, fmt.Errorf("no checkpoint of epoch %d (it has %s); -checkpoints names epochs that every run has, or last",
				e, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// copyFileAtomic copies the regular file src to dst (creating dst's
// directory), replacing dst only once the copy is complete.
func copyFileAtomic(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
