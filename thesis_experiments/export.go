package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

const exportUsage = `Usage: go run ./thesis_experiments export [-checkpoints[=last]] <results directory> <destination>

Copies the finished runs of a results tree (every run directory below it whose
metrics.csv reaches its config's trainer.max_epochs) into destination, keeping
their paths relative to the results directory: config.yaml and metrics.csv, and
with -checkpoints every epoch checkpoint's model weights (no optimiser state:
about a third of the size; enough for analyses and from_checkpoint, not for
resuming), with -checkpoints=last only the last epoch's. This is how
notebooks/results-cpu-budget and notebooks/results-full-budget were made:

  go run ./thesis_experiments export results/cpu notebooks/results-cpu-budget
  go run ./thesis_experiments export -checkpoints results/cpu/memory_analysis_mnist \
      notebooks/results-cpu-budget/memory_analysis_mnist
  go run ./thesis_experiments export results/baseline_mnist notebooks/results-full-budget/baseline_mnist
  go run ./thesis_experiments export -checkpoints=last 'results/baseline_mnist/model=memae,model.arch=mnist-flat/seed_1' \
      'notebooks/results-full-budget/baseline_mnist/model=memae,model.arch=mnist-flat/seed_1'

Unfinished runs are listed and skipped. Files already in the destination are
replaced, each atomically.

Flags:
`

func runExport(_ context.Context, args []string, stdout, _ io.Writer) error {
	fset := flag.NewFlagSet("export", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	help := fset.Bool("h", false, "this help")
	var checkpoints checkpointsFlag
	fset.Var(&checkpoints, "checkpoints", "also export every epoch checkpoint's model weights (=last: only the last epoch's)")
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
	var exported, ckpts int
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
		out := filepath.Join(dst, rel)
		for _, name := range []string{results.ConfigFile, results.MetricsFile} {
			if err := copyFileAtomic(filepath.Join(p.Dir, name), filepath.Join(out, name)); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
		if checkpoints != noCheckpoints {
			cps, err := train.ListCheckpoints(p.Dir)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if len(cps) == 0 {
				bare = append(bare, "  "+p.Dir)
			}
			if checkpoints == lastCheckpoint && len(cps) > 0 {
				cps = cps[len(cps)-1:]
			}
			for _, cp := range cps {
				if err := train.ExportWeights(cp.Dir, out); err != nil {
					return fmt.Errorf("export: %w", err)
				}
			}
			ckpts += len(cps)
		}
		exported++
	}
	fmt.Fprintf(stdout, "exported %d runs (%d checkpoints) from %s to %s\n", exported, ckpts, src, dst)
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
// (-checkpoints, =true, =all) or last (=last).
type checkpointsFlag string

const (
	noCheckpoints  checkpointsFlag = ""
	allCheckpoints checkpointsFlag = "all"
	lastCheckpoint checkpointsFlag = "last"
)

func (f *checkpointsFlag) String() string { return string(*f) }

// IsBoolFlag lets -checkpoints stand alone (meaning all).
func (f *checkpointsFlag) IsBoolFlag() bool { return true }

func (f *checkpointsFlag) Set(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "all":
		*f = allCheckpoints
	case "false", "none":
		*f = noCheckpoints
	case "last":
		*f = lastCheckpoint
	default:
		return fmt.Errorf("-checkpoints=%s: give -checkpoints (every epoch's) or -checkpoints=last (the last epoch's)", v)
	}
	return nil
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
