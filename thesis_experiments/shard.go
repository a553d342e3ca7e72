package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/train"
)

// Sharding: spreading the runs of one command over machines.
//
// The planned run list of a command (configurations × seeds × target groups,
// in the order -n prints) is fixed by its arguments, and so are its
// trainings: a run, or runs that share one training (conditional known and
// unknown; see experiment.Groups), numbered by their first run. Training k
// (0-based) belongs to shard k mod n: shard=i/n runs only those, and the n
// shards of a command together run every run exactly once, each about 1/n of
// the trainings, interleaved so that slow and fast configurations mix.
// Without shard=, the shard comes from the environment:
//
//   - a Slurm job array: SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) of
//     SLURM_ARRAY_TASK_COUNT tasks (an array 0-(n-1), as `sbatch` writes it);
//   - a Kubernetes Indexed Job: JOB_COMPLETION_INDEX, with the number of
//     completions in CMEMAE_SHARD_COUNT (Kubernetes does not export it).
//
// A shard skips runs that are complete and leaves runs whose directory
// another process holds (package train's lock) to that process; a run
// interrupted in a killed task resumes from its checkpoints in whichever
// process next runs the command (resubmit the same array).
const (
	shardKey      = "shard"
	envShardCount = "CMEMAE_SHARD_COUNT"
)

// shardState is the runner's part in sharding and run-directory locks.
type shardState struct {
	shard     *shard // nil: every run
	locked    []job  // runs other processes held when their turn came
	waitLocks bool   // wait for held run directories instead of moving on
}

// shard is this process's share of the planned runs.
type shard struct {
	index, count int
	source       string // where it came from, for messages
}

// owns reports whether training k (0-based, in plan order) belongs to the shard.
func (s *shard) owns(k int) bool { return s == nil || k%s.count == s.index }

// parseShard parses "i/n" with 0 ≤ i < n.
func parseShard(value, source string) (*shard, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(value), "/")
	i, errI := strconv.Atoi(strings.TrimSpace(is))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || errI != nil || errN != nil:
		return nil, fmt.Errorf("%s: %q is not i/n (e.g. shard=0/4: the first of 4 shards)", source, value)
	case n < 1:
		return nil, fmt.Errorf("%s: the number of shards must be ≥ 1, got %d", source, n)
	case i < 0 || i >= n:
		return nil, fmt.Errorf("%s: shard index %d is not in 0..%d (shards are numbered from 0)", source, i, n-1)
	}
	return &shard{index: i, count: n, source: source}, nil
}

// takeShard removes shard=i/n from the key=value arguments and returns the
// shard: the argument's, else the environment's (getenv), else nil (every
// run). Mistakes are usage errors.
func takeShard(args []string, getenv func(string) string) (rest []string, s *shard, err error) {
	for _, a := range args {
		key, value, ok := config.SplitArg(a)
		if !ok || key != shardKey {
			rest = append(rest, a)
			continue
		}
		if s != nil {
			return nil, nil, usageError{errors.New("shard given twice")}
		}
		if s, err = parseShard(value, shardKey+"="+value); err != nil {
			return nil, nil, usageError{err}
		}
	}
	if s != nil {
		return rest, s, nil
	}
	s, err = shardFromEnv(getenv)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return rest, s, nil
}

// shardFromEnv reads a Slurm array task or a Kubernetes Indexed Job
// completion index; nil when neither is set.
func shardFromEnv(getenv func(string) string) (*shard, error) {
	atoi := func(name string) (int, bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q is not an integer", name, v)
		}
		return n, true, nil
	}
	id, haveID, err := atoi("SLURM_ARRAY_TASK_ID")
	if err != nil {
		return nil, err
	}
	if haveID {
		count, haveCount, err := atoi("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return nil, err
		}
		if !haveCount {
			return nil, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is set but SLURM_ARRAY_TASK_COUNT is not (Slurm older than 17.11?); give shard=%d/<number of tasks>", id, id)
		}
		minID, _, err := atoi("SLURM_ARRAY_TASK_MIN")
		if err != nil {
			return nil, err
		}
		step, haveStep, err := atoi("SLURM_ARRAY_TASK_STEP")
		if err != nil {
			return nil, err
		}
		if !haveStep || step < 1 {
			step = 1
		}
		src := fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d of SLURM_ARRAY_TASK_COUNT=%d", id, count)
		off := id - minID
		if off%step != 0 || off/step >= count || off < 0 {
			return nil, fmt.Errorf("%s: the array is not contiguous (task index %d is not in 0..%d); submit --array=0-%d (as `thesis_experiments sbatch` writes it) or give shard=i/n", src, off/step, count-1, count-1)
		}
		return parseShard(fmt.Sprintf("%d/%d", off/step, count), src)
	}
	idx, haveIdx, err := atoi("JOB_COMPLETION_INDEX")
	if err != nil || !haveIdx {
		return nil, err
	}
	count, haveCount, err := atoi(envShardCount)
	if err != nil {
		return nil, err
	}
	if !haveCount {
		return nil, fmt.Errorf("JOB_COMPLETION_INDEX=%d (a Kubernetes Indexed Job) is set but %s is not: set it to the Job's completions (or give shard=%d/<completions>)", idx, envShardCount, idx)
	}
	return parseShard(fmt.Sprintf("%d/%d", idx, count), fmt.Sprintf("JOB_COMPLETION_INDEX=%d of %s=%d", idx, envShardCount, count))
}

// selectShard keeps the runs of the shard's trainings and says which they are.
func selectShard(jobs []job, s *shard, w io.Writer) []job {
	if s == nil {
		return jobs
	}
	groups := experiment.Groups(jobs)
	owned := make([]bool, len(jobs))
	trainings := 0
	for k, g := range groups {
		if s.owns(k) {
			trainings++
			for _, i := range g {
				owned[i] = true
			}
		}
	}
	var mine []job
	var nums []string
	for k, j := range jobs {
		if owned[k] {
			mine = append(mine, j)
			nums = append(nums, strconv.Itoa(k+1))
		}
	}
	list := strings.Join(nums, ", ")
	if len(nums) > 12 {
		list = strings.Join(nums[:10], ", ") + ", …, " + nums[len(nums)-1]
	}
	if len(mine) == 0 {
		list = "none: more shards than trainings"
	}
	fmt.Fprintf(w, "shard %d/%d (%s): %d of %d runs (%s)", s.index, s.count, s.source, len(mine), len(jobs), list)
	if len(groups) != len(jobs) {
		fmt.Fprintf(w, ", %d of %d trainings", trainings, len(groups))
	}
	fmt.Fprintln(w)
	return mine
}

// skipCompleted reports (and prints) a run that has nothing left to train,
// without building its model: a complete run (experiment.Run.Complete, as
// Driver.RunAll and the notebooks decide), checkpoints or not.
func (r *runner) skipCompleted(j job) bool {
	if !j.Complete() {
		return false
	}
	fmt.Fprintf(r.stdout, "  already complete (%d epochs)\n", j.Experiment.Trainer.MaxEpochs)
	if line := bestLine(j); line != "" {
		fmt.Fprintln(r.stdout, "  "+line)
	}
	return true
}

// lockedElsewhere records a run whose directory another process holds; it
// is dealt with by finishLocked after the other runs.
func (r *runner) lockedElsewhere(j job, err error) {
	holder := "another process"
	var le *train.LockedError
	if errors.As(err, &le) && le.Holder != "" {
		holder = le.Holder
	}
	fmt.Fprintf(r.stdout, "  in use by %s: moving on\n", holder)
	r.locked = append(r.locked, j)
}

// finishLocked deals with the runs other processes held when their turn
// came. A shard leaves them to their holders (which are alive: the OS drops
// the lock of a dead process) and says so; an unsharded command waits for
// each and then completes it (usually: finds it complete), so that two
// identical commands both end with every run done.
func (r *runner) finishLocked(ctx context.Context) error {
	locked := r.locked
	r.locked = nil
	if len(locked) == 0 {
		return nil
	}
	if r.shard != nil {
		fmt.Fprintf(r.stdout, "%d run(s) of this shard were in use by other processes and are left to them (run the command again later to check):\n", len(locked))
		for _, j := range locked {
			fmt.Fprintf(r.stdout, "  %s (%s)\n", j.Dir, train.LockHolder(j.Dir))
		}
		return nil
	}
	r.waitLocks = true
	defer func() { r.waitLocks = false }()
	for i, j := range locked {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("before waiting for %s: %w", j.Dir, err)
		}
		fmt.Fprintf(r.stdout, "held run %d/%d: %s target=%v → %s\n", i+1, len(locked), j.Experiment, j.Targets, j.Dir)
		if err := r.runJob(ctx, j); err != nil {
			return err
		}
	}
	return nil
}
