package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
)

const usageHead = `Usage: go run ./thesis_experiments [flags] [key=value ...]
       go run ./thesis_experiments bench [models...] [-batch 64] [-seconds 5] [-torch path|off]
       go run ./thesis_experiments table [-latex | -transpose] [results/<experiment>]
       go run ./thesis_experiments sbatch [-tasks n] [-parallel k] [-time t] [-cpus c] [-gpus g] [key=value ...]
       go run ./thesis_experiments export [-checkpoints[=last]] <results directory> <destination>

Trains and evaluates memory-augmented (conditional) autoencoders for one-class
anomaly detection, as the thesis's "python main.py model=memae datamodule=mnist".
Each configuration x seed x target group is one run, written to
  <results_dir>/<name>/<params>/seed_<s>/target_<t>/{config.yaml,metrics.csv,checkpoints/}
and resumed from its last checkpoint if the directory exists (Ctrl-C is safe).

Values: key=value overrides a key; key=a,b,c (or key=choice(a,b,c)) sweeps it
(cartesian product over all swept keys, each combination in its own <params>
directory); lists are written [0,1,2] or [[0,1],[4,5]]. Integer keys take whole
numbers only (10.5 and 1e3 are refused). Config files may be given as
experiment=<name> or experiment=<file.yaml>.

Paths: results_dir, from_checkpoint and datamodule.data_dir take their value
whole, commas included, so a run directory printed by this command can be
pasted back as from_checkpoint=<dir>. Sweep them with choice():
results_dir=choice(/tmp/a,/tmp/b) (quote a path with a comma inside choice(),
e.g. choice('/tmp/a,b',/tmp/c)).

How long: on a free CPU core (pure-Go backend, GOEXPERIMENT=simd) one MNIST
epoch of one digit takes about 5 s with the flat latent (4 s spatial; a class
pair of the conditional experiment about twice as long), so the default command (10 digits x 100 epochs) takes about 1-1.5 hours; 2-3 times
that on a busy machine or without GOEXPERIMENT=simd. Add -n to see the runs
and an estimate measured on this machine; make it shorter with
datamodule.targets=[0] (one digit) and trainer.max_epochs=10.
experiment=smoke shows the method working in about 20 s.

Examples:
  go run ./thesis_experiments experiment=smoke                   # ~20 s, AUROC ~0.96
  go run ./thesis_experiments model=memae datamodule=mnist
  go run ./thesis_experiments -n model=memae datamodule=mnist    # runs + estimated duration
  go run ./thesis_experiments model=ae datamodule=cifar datamodule.targets=[3] trainer.max_epochs=10
  go run ./thesis_experiments conditional=unknown datamodule.targets=[[1,7],[4,5]]
  go run ./thesis_experiments seed=1,2,3 model.memory_size=10,50  # 6 configurations x 10 digits = 60 runs
  go run ./thesis_experiments experiment=baseline_mnist datamodule.targets=[0]
  go run ./thesis_experiments -n experiment=conditional_mnist     # list the runs, estimate the time
  go run ./thesis_experiments experiment=baseline_mnist budget=cpu # thesis hyper-parameters, 5 epochs, seed 1

Flags:
  -h, -help       this help
  -n, -dry-run    print the runs (and their directories), the epochs left and an
                  estimated duration (a few seconds measured on the active backend)
                  without training
  -estimate=false with -n: list only, measure nothing
  -cfg            print the resolved configuration of every run as YAML and exit
  -max-test-images N
                  evaluate on a random subset of N images per test set (quick checks)
  -copy-twins=false
                  train every run; by default a run that has not started is copied
                  from a finished twin under the same results_dir: a run of another
                  experiment or params directory with the same configuration, seed
                  and targets, evaluated alike (a sweep's default value is the
                  baseline's run); training is deterministic, so it would repeat it
  -m, -multirun   accepted for Hydra compatibility (sweeps need no flag here)

Several machines: shard=i/n (0 <= i < n) runs only the trainings t (numbered
from 1 by their first run as -n lists them) with (t-1) mod n = i: a training is
a run, or runs that share one (conditional known and unknown train the same
model and are evaluated twice); without it the shard comes from a Slurm array task
(SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job
(JOB_COMPLETION_INDEX, with the completions in CMEMAE_SHARD_COUNT). A run
being trained by another process (its directory's .lock) is skipped and
waited for at the end (left to it when sharded); complete runs are skipped.
"sbatch -h" writes a Slurm job array script for the same arguments.

Exit status: 0 done, 1 a run failed, 2 configuration or usage error (nothing
trained), 130 interrupted (Ctrl-C; finished epochs are kept in checkpoint
"last" and the same command resumes). These are the built command's:
go build -o cmemae ./thesis_experiments && ./cmemae ...; under go run the
shell always sees 1 ("exit status N" is printed).
`

func printUsage(w io.Writer, parser *config.Parser) {
	fmt.Fprint(w, usageHead)
	fmt.Fprintln(w, "\nGroups:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	groups := config.Groups()
	fmt.Fprintf(tw, "  model=\t%s\t(default memae)\n", strings.Join(groups[config.GroupModel], " | "))
	fmt.Fprintf(tw, "  datamodule=\t%s\t(default mnist; cifar sets model.arch=cifar-flat, model.memory_size=125)\n", strings.Join(groups[config.GroupDatamodule], " | "))
	tw.Flush()
	fmt.Fprintln(w, "\nKeys (defaults: go run ./thesis_experiments -cfg [key=value ...]):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, k := range config.Keys() {
		if k.Name == config.GroupModel || k.Name == config.GroupDatamodule {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n", k.Name, k.Doc)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nExperiments (experiment=<name>):")
	infos, err := parser.ExperimentList()
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, in := range infos {
		fmt.Fprintf(tw, "  %s\t%s\n", in.Name, in.Description)
	}
	tw.Flush()
	if err != nil {
		fmt.Fprintf(w, "  (error reading the experiment files: %v)\n", err)
	}
	fmt.Fprintln(w, "\nBudgets (budget=<name>; overrides applied after the experiment, before yours;\nall but full write to <results_dir>/<name>):")
	budgets, err := experiment.Budgets()
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, b := range budgets {
		o := strings.Join(b.Overrides, " ")
		if o == "" {
			o = "(none: the experiment as the thesis ran it)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", b.Name, o)
	}
	tw.Flush()
	if err != nil {
		fmt.Fprintf(w, "  (error reading the budgets: %v)\n", err)
	}
	fmt.Fprintf(w, "\nEnvironment: GOMLX_BACKEND (go, xla:cpu, xla:cuda), CMEMAE_DATA_DIR, CMEMAE_OFFLINE.\n")
}
