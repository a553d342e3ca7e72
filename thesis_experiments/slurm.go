package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
)

// maxArrayTasks is Slurm's default MaxArraySize (1001) minus one: array
// indices 0..1000 are accepted by a default configuration.
const maxArrayTasks = 1000

// sbatchOptions are the flags of the sbatch subcommand.
type sbatchOptions struct {
	out, bin, logs     string
	tasks, parallel    int
	time, mem          string
	cpus, gpus         int
	partition, account string
	jobName            string
	maxTestImages      int
	copyTwins          bool // -copy-twins (passed on)
	help               bool
}

const sbatchUsage = `Usage: go run ./thesis_experiments sbatch [flags] [key=value ...]

Writes a Slurm batch script that runs the command "go run ./thesis_experiments
key=value ..." as a job array: array task i of n trains the trainings t
(numbered from 1 by their first run as -n lists them; runs that differ only
in how they are evaluated, such as conditional known and unknown, share one)
with (t-1) mod n = i, all into one results tree, as if one machine had run
them. Two lines:

  go run ./thesis_experiments sbatch -time 2:00:00 -gpus 1 experiment=baseline_mnist
  sbatch results/baseline_mnist/slurm/baseline_mnist.sbatch

Submit the same file again after tasks were killed, timed out or failed:
complete runs are skipped, interrupted ones resume from their last checkpoint,
runs another task is still training are left to it. Then
  go run ./thesis_experiments table results/baseline_mnist

The tasks run a copy of this program (<slurm dir>/thesis_experiments; -bin to
use another), so compute nodes need no Go; results_dir must be on a filesystem
every node shares (the tasks start in the current directory). Everything is
written below <results_dir>/<name>/slurm/ unless -o / -logs say otherwise.

Flags:
`

// runSbatch is the sbatch subcommand.
func runSbatch(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var o sbatchOptions
	fset := flag.NewFlagSet("sbatch", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.BoolVar(&o.help, "h", false, "this help")
	fset.StringVar(&o.out, "o", "", "script to write (default <results_dir>/<name>/slurm/<name>.sbatch; - for stdout)")
	fset.IntVar(&o.tasks, "tasks", 0, "array tasks n (default one per training, at most 1000)")
	fset.IntVar(&o.parallel, "parallel", 0, "at most k tasks at once: --array=0-(n-1)%k (default no limit)")
	fset.StringVar(&o.time, "time", "", "time limit per task, Slurm format (e.g. 30, 2:00:00, 1-12:00:00; default the partition's)")
	fset.IntVar(&o.cpus, "cpus", 2, "CPUs per task (--cpus-per-task)")
	fset.IntVar(&o.gpus, "gpus", 0, "GPUs per task (--gres=gpu:N; the tasks then use XLA's CUDA backend unless GOMLX_BACKEND says otherwise)")
	fset.StringVar(&o.mem, "mem", "", "memory per task (--mem, e.g. 8G; default the partition's)")
	fset.StringVar(&o.partition, "partition", "", "partition (--partition)")
	fset.StringVar(&o.account, "account", "", "account to charge (--account)")
	fset.StringVar(&o.jobName, "job-name", "", "job name (default cmemae-<name>)")
	fset.StringVar(&o.logs, "logs", "", "directory of the task logs <job>_<task>.out (default <slurm dir>/logs)")
	fset.StringVar(&o.bin, "bin", "", "program the tasks run (default a copy of this one in the slurm dir)")
	fset.IntVar(&o.maxTestImages, "max-test-images", 0, "passed on: evaluate on N images per test set")
	fset.BoolVar(&o.copyTwins, "copy-twins", true, "passed on: copy a run's finished twin instead of training it (see the runner's -h)")
	overrides, err := parseFlags("sbatch", args, fset)
	if err != nil {
		return err
	}
	if o.help {
		fmt.Fprint(stdout, sbatchUsage)
		fset.SetOutput(stdout)
		fset.PrintDefaults()
		return nil
	}
	if err := o.validate(); err != nil {
		return usageError{fmt.Errorf("sbatch: %w", err)}
	}
	for _, a := range overrides {
		if k, _, _ := config.SplitArg(a); k == shardKey {
			return usageError{errors.New("sbatch: shard= is set by each array task (SLURM_ARRAY_TASK_ID); leave it out, -tasks chooses the number of shards")}
		}
	}
	exps, err := experiment.Parse(overrides...)
	if err != nil {
		return usageError{err}
	}
	jobs := planJobs(exps)
	if err := experiment.CheckDistinct(jobs); err != nil {
		return usageError{fmt.Errorf("sbatch: %w", err)}
	}
	if len(jobs) == 0 {
		return usageError{errors.New("sbatch: the arguments plan no runs")}
	}
	trainings := len(experiment.Groups(jobs)) // runs sharing a training go to one task (see shard)
	tasks := o.tasks
	if tasks == 0 {
		tasks = min(trainings, maxArrayTasks)
	}
	if tasks > trainings {
		fmt.Fprintf(stderr, "sbatch: -tasks %d > %d trainings (%d runs): using %d tasks\n", tasks, trainings, len(jobs), trainings)
		tasks = trainings
	}
	name := exps[0].Name
	slurmDir, err := filepath.Abs(filepath.Join(exps[0].ResultsDir, name, "slurm"))
	if err != nil {
		return err
	}
	logs := o.logs
	if logs == "" {
		logs = filepath.Join(slurmDir, "logs")
	}
	if logs, err = filepath.Abs(logs); err != nil {
		return err
	}
	bin := o.bin
	if bin != "" {
		if bin, err = filepath.Abs(bin); err != nil {
			return err
		}
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return usageError{fmt.Errorf("sbatch: -bin %s is not an executable file", bin)}
		}
	}
	// Slurm does not create the log directory: a missing one makes every
	// task fail without a word.
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return fmt.Errorf("sbatch: creating the log directory: %w", err)
	}
	if bin == "" {
		if bin, err = copySelf(filepath.Join(slurmDir, "thesis_experiments")); err != nil {
			return err
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	var runArgs []string
	if o.maxTestImages > 0 {
		runArgs = append(runArgs, fmt.Sprintf("-max-test-images=%d", o.maxTestImages))
	}
	if !o.copyTwins {
		runArgs = append(runArgs, "-copy-twins=false")
	}
	runArgs = append(runArgs, overrides...)
	script := sbatchScript(o, sbatchPlan{
		name: name, runs: len(jobs), tasks: tasks, bin: bin, logs: logs, workDir: wd, args: runArgs,
		resultsDir: filepath.Join(exps[0].ResultsDir, name),
	})
	out := o.out
	if out == "-" {
		_, err := io.WriteString(stdout, script)
		return err
	}
	if out == "" {
		out = filepath.Join(slurmDir, scriptName(overrides, name)+".sbatch")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("sbatch: %w", err)
	}
	if old, err := os.ReadFile(out); err == nil && withoutDate(string(old)) != withoutDate(script) {
		fmt.Fprintf(stderr, "sbatch: replacing %s, written before for other arguments or options "+
			"(its runs stay in the results; give -o <file> to keep both scripts)\n", out)
	}
	if err := os.WriteFile(out, []byte(script), 0o755); err != nil {
		return fmt.Errorf("sbatch: writing the script: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d run(s) in a %d-task array (--array=%s), task logs in %s\n", out, len(jobs), tasks, arraySpec(tasks, o.parallel), logs)
	fmt.Fprintf(stdout, "submit:   sbatch %s\n", shellQuote(out))
	fmt.Fprintf(stdout, "watch:    squeue --me; tail -f %s/*.out\n", shellQuote(logs))
	fmt.Fprintf(stdout, "results:  %s table %s\n", commandName(), shellQuote(filepath.Join(exps[0].ResultsDir, name)))
	fmt.Fprintln(stdout, "Submit the same file again to finish runs a killed or timed-out array left (they resume from their checkpoints).")
	return nil
}

// scriptName names the script after the experiment argument (an experiment
// file's name without .yaml), so that experiments sharing a results name
// (selection_conditional_mnist writes into conditional_mnist) keep their own
// scripts; without one, after the results name.
func scriptName(overrides []string, name string) string {
	for _, a := range overrides {
		if k, v, ok := config.SplitArg(a); ok && k == config.KeyExperiment && v != "" {
			return strings.TrimSuffix(filepath.Base(v), ".yaml")
		}
	}
	return name
}

// slurmTime is Slurm's time format: minutes, [days-]hours:minutes[:seconds], days-hours.
var slurmTime = regexp.MustCompile(`^(\d+|\d+:\d{1,2}(:\d{1,2})?|\d+-\d+(:\d{1,2}(:\d{1,2})?)?|UNLIMITED|INFINITE)$`)

// slurmMem is --mem's format: a number with an optional K, M, G or T suffix.
var slurmMem = regexp.MustCompile(`^\d+[KMGT]?$`)

func (o *sbatchOptions) validate() error {
	switch {
	case o.tasks < 0 || o.tasks > maxArrayTasks:
		return fmt.Errorf("-tasks %d: want 1..%d (0 = one per training)", o.tasks, maxArrayTasks)
	case o.parallel < 0:
		return fmt.Errorf("-parallel %d: want ≥ 1 (0 = no limit)", o.parallel)
	case o.cpus < 1:
		return fmt.Errorf("-cpus %d: want ≥ 1", o.cpus)
	case o.gpus < 0:
		return fmt.Errorf("-gpus %d: want ≥ 0", o.gpus)
	case o.time != "" && !slurmTime.MatchString(o.time):
		return fmt.Errorf("-time %q is not a Slurm time (minutes, hours:minutes:seconds or days-hours:minutes, e.g. 90, 2:00:00, 1-12:00:00)", o.time)
	case o.mem != "" && !slurmMem.MatchString(o.mem):
		return fmt.Errorf("-mem %q is not a Slurm memory size (e.g. 4000, 8G)", o.mem)
	case o.maxTestImages < 0:
		return fmt.Errorf("-max-test-images %d: want ≥ 0", o.maxTestImages)
	}
	for flagName, v := range map[string]string{"-partition": o.partition, "-account": o.account, "-job-name": o.jobName} {
		if strings.ContainsAny(v, " \t\n'\"$`\\") {
			return fmt.Errorf("%s %q: no spaces, quotes or shell characters", flagName, v)
		}
	}
	return nil
}

// sbatchPlan is what the script runs.
type sbatchPlan struct {
	name        string
	runs, tasks int
	bin, logs   string
	workDir     string
	args        []string
	resultsDir  string
}

// arraySpec is sbatch's --array value: tasks 0..n-1, at most parallel at once
// (0: no limit).
func arraySpec(tasks, parallel int) string {
	spec := fmt.Sprintf("0-%d", tasks-1)
	if parallel > 0 {
		spec += fmt.Sprintf("%%%d", parallel)
	}
	return spec
}

// scriptDateLine begins the script's line that says when it was written.
const scriptDateLine = "# C-MemAE runs on Slurm, written by `thesis_experiments sbatch` on "

// withoutDate is a script without the line that says when it was written, so
// that the same script written again a second later is still the same.
func withoutDate(script string) string {
	var b strings.Builder
	for line := range strings.Lines(script) {
		if !strings.HasPrefix(line, scriptDateLine) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// sbatchScript renders the batch script.
func sbatchScript(o sbatchOptions, p sbatchPlan) string {
	var b strings.Builder
	jobName := o.jobName
	if jobName == "" {
		jobName = "cmemae-" + sanitizeJobName(p.name)
	}
	array := arraySpec(p.tasks, o.parallel)
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "%s%s.\n", scriptDateLine, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# %d run(s) (list them: %s -n %s) in %d array task(s): task i trains the trainings t\n",
		p.runs, shellQuote(p.bin), shellJoin(p.args), p.tasks)
	fmt.Fprintf(&b, "# with (t-1) mod %d = i (a run, or runs that share one training, e.g. conditional known\n", p.tasks)
	fmt.Fprintf(&b, "# and unknown) into %s (one tree, as if one machine ran them).\n", p.resultsDir)
	fmt.Fprintf(&b, "# Submit: sbatch %s\n", "<this file>")
	fmt.Fprintf(&b, "# Submit it again to finish what killed or timed-out tasks left: complete runs are\n")
	fmt.Fprintf(&b, "# skipped, interrupted ones resume from their last checkpoint.\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", jobName)
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n")
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", o.cpus)
	if o.gpus > 0 {
		fmt.Fprintf(&b, "#SBATCH --gres=gpu:%d\n", o.gpus)
	}
	if o.time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.time)
	}
	if o.mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.mem)
	}
	if o.partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.partition)
	}
	if o.account != "" {
		fmt.Fprintf(&b, "#SBATCH --account=%s\n", o.account)
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", filepath.Join(p.logs, "%A_%a.out"))
	fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", p.workDir)
	// On a time limit Slurm sends SIGTERM, then SIGKILL after KillWait: the
	// program stops after the current step, and the run resumes from its
	// last checkpoint when the script is submitted again.
	fmt.Fprintf(&b, "set -eu\n")
	if o.gpus > 0 {
		fmt.Fprintf(&b, "export GOMLX_BACKEND=\"${GOMLX_BACKEND:-xla:cuda}\"\n")
	}
	fmt.Fprintf(&b, "echo \"task ${SLURM_ARRAY_TASK_ID:-} of ${SLURM_ARRAY_TASK_COUNT:-} (job ${SLURM_ARRAY_JOB_ID:-}) on $(hostname) at $(date -u +%%FT%%TZ)\"\n")
	fmt.Fprintf(&b, "exec %s %s\n", shellQuote(p.bin), shellJoin(p.args))
	return b.String()
}

// copySelf copies the running program to path (atomically: a task running
// an older copy keeps it) and returns path.
func copySelf(path string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("sbatch: finding this program to copy for the tasks (or give -bin): %w", err)
	}
	src, err := os.Open(self)
	if err != nil {
		return "", fmt.Errorf("sbatch: copying this program for the tasks (or give -bin): %w", err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("sbatch: %w", err)
	}
	if err := atomicfile.Write(path, 0o755, func(w io.Writer) error {
		_, err := io.Copy(w, src)
		return err
	}); err != nil {
		return "", fmt.Errorf("sbatch: copying this program to %s: %w", path, err)
	}
	return path, nil
}

// commandName is how the user ran this program, for printed hints.
func commandName() string {
	if underGoRun() {
		return "go run ./thesis_experiments"
	}
	return filepath.Base(os.Args[0])
}

func sanitizeJobName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
