package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

func TestTakeShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		args       []string
		env        func(string) string
		index, cnt int    // cnt 0: no shard
		err        string // substring of the error
	}{
		{args: []string{"seed=1"}, env: env()},
		{args: []string{"seed=1", "shard=1/4", "model=ae"}, env: env(), index: 1, cnt: 4},
		{args: []string{"shard= 0 / 1 "}, env: env(), index: 0, cnt: 1},
		{args: []string{"shard=4/4"}, env: env(), err: "shard index 4 is not in 0..3"},
		{args: []string{"shard=-1/4"}, env: env(), err: "shard index -1 is not in 0..3"},
		{args: []string{"shard=0/0"}, env: env(), err: "number of shards must be ≥ 1"},
		{args: []string{"shard=1"}, env: env(), err: `"1" is not i/n`},
		{args: []string{"shard=0/2,1/2"}, env: env(), err: "is not i/n"},
		{args: []string{"shard=0/2", "shard=1/2"}, env: env(), err: "shard given twice"},
		// The command line wins over the environment.
		{args: []string{"shard=2/3"}, env: env("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "8"), index: 2, cnt: 3},
		{env: env("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "8", "SLURM_ARRAY_TASK_MIN", "0"), index: 3, cnt: 8},
		// --array=4-6: task 5 is the second of three.
		{env: env("SLURM_ARRAY_TASK_ID", "5", "SLURM_ARRAY_TASK_COUNT", "3", "SLURM_ARRAY_TASK_MIN", "4"), index: 1, cnt: 3},
		// --array=0-10:5 (0, 5, 10): task 10 is the third.
		{env: env("SLURM_ARRAY_TASK_ID", "10", "SLURM_ARRAY_TASK_COUNT", "3", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "5"), index: 2, cnt: 3},
		// --array=0,3,9: not contiguous.
		{env: env("SLURM_ARRAY_TASK_ID", "9", "SLURM_ARRAY_TASK_COUNT", "3", "SLURM_ARRAY_TASK_MIN", "0"), err: "not contiguous"},
		{env: env("SLURM_ARRAY_TASK_ID", "2"), err: "SLURM_ARRAY_TASK_COUNT is not"},
		{env: env("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "2"), err: `SLURM_ARRAY_TASK_ID="x" is not an integer`},
		{env: env("JOB_COMPLETION_INDEX", "2", envShardCount, "5"), index: 2, cnt: 5},
		{env: env("JOB_COMPLETION_INDEX", "2"), err: "CMEMAE_SHARD_COUNT is not"},
		{env: env("JOB_COMPLETION_INDEX", "5", envShardCount, "5"), err: "shard index 5 is not in 0..4"},
	} {
		rest, s, err := takeShard(c.args, c.env)
		name := fmt.Sprintf("%q", c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, new(usageError)) {
				t.Errorf("%s: err = %v, want a usage error containing %q", name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		wantRest := slices.DeleteFunc(slices.Clone(c.args), func(a string) bool { return strings.HasPrefix(a, "shard=") })
		if !slices.Equal(rest, wantRest) {
			t.Errorf("%s: rest = %q, want %q", name, rest, wantRest)
		}
		switch {
		case c.cnt == 0 && s != nil:
			t.Errorf("%s: shard %+v, want none", name, s)
		case c.cnt != 0 && (s == nil || s.index != c.index || s.count != c.cnt):
			t.Errorf("%s: shard %+v, want %d/%d", name, s, c.index, c.cnt)
		}
	}
}

// The n shards of a command run every planned run exactly once, each shard
// ⌊G/n⌋ or ⌈G/n⌉ of its G trainings, and the runs of one training (known and
// unknown) together.
func TestShardsPartitionRuns(t *testing.T) {
	exps, err := experiment.NewParser().Parse("experiment=conditional_mnist", "results_dir=/r")
	if err != nil {
		t.Fatal(err)
	}
	jobs := planJobs(exps)
	if len(jobs) != 54 {
		t.Fatalf("%d runs, want 54", len(jobs))
	}
	for n := 1; n <= 7; n++ {
		seen := map[string]int{}
		for i := range n {
			mine := selectShard(jobs, &shard{index: i, count: n, source: "test"}, io.Discard)
			if len(mine) != 2*(27/n) && len(mine) != 2*((27+n-1)/n) {
				t.Errorf("shard %d/%d has %d runs, want 2 × ⌊27/%d⌋ or 2 × ⌈27/%d⌉", i, n, len(mine), n, n)
			}
			for _, j := range mine {
				seen[j.Dir]++
				partner := strings.Replace(j.Dir, "conditional=known", "conditional=unknown", 1)
				if partner == j.Dir {
					partner = strings.Replace(j.Dir, "conditional=unknown", "conditional=known", 1)
				}
				if !slices.ContainsFunc(mine, func(o job) bool { return o.Dir == partner }) {
					t.Errorf("shard %d/%d has %s without %s, which shares its training", i, n, j.Dir, partner)
				}
			}
		}
		if len(seen) != 54 {
			t.Errorf("n=%d: %d distinct runs in all shards, want 54", n, len(seen))
		}
		for d, c := range seen {
			if c != 1 {
				t.Errorf("n=%d: %s in %d shards", n, d, c)
			}
		}
	}
	out, err := runCmd(t, context.Background(), "-n", "-estimate=false", "shard=1/4", "experiment=conditional_mnist", "results_dir=/r")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := "shard 1/4 (shard=1/4): 14 of 54 runs (2, 6, 11, 15, 19, 23, 27, 28, 32, 36, …, 53), 7 of 27 trainings"; lines[0] != want {
		t.Errorf("-n shard=1/4 header\n got %s\nwant %s", lines[0], want)
	}
	var runs []string // the listed runs (-n adds a summary after them)
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "run ") {
			runs = append(runs, l)
		}
	}
	if len(runs) != 14 || !strings.HasSuffix(runs[0], "→ "+jobs[1].Dir) || !strings.HasSuffix(runs[13], "→ "+jobs[52].Dir+" (trained along with run 12)") {
		t.Errorf("-n shard=1/4 lists:\n%s", out)
	}
}

// A run whose directory another process holds: a shard moves on and leaves
// it to the holder (exit 0, nothing written); an unsharded command moves on,
// then waits for it and trains it once the holder is gone.
func TestLockedRunsMoveOn(t *testing.T) {
	t.Setenv(data.EnvOffline, "1")
	t.Setenv("GOMLX_BACKEND", "go")
	root := t.TempDir()
	args := []string{"datamodule.targets=[1,2]", "datamodule.num_train_samples=32", "trainer.max_epochs=1",
		"results_dir=" + root, "-max-test-images", "50"}
	exps, err := (&config.Parser{}).Parse(args[:4]...)
	if err != nil {
		t.Fatal(err)
	}
	held := exps[0].RunDir([]int{1})
	free := exps[0].RunDir([]int{2})
	lock, err := train.TryLockRun(held)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, context.Background(), append(args, "shard=0/1")...)
	if err != nil {
		t.Fatalf("sharded command: %v\n%s", err, out)
	}
	for _, want := range []string{fmt.Sprintf("  in use by pid %d on host ", os.Getpid()), ": moving on",
		"1 run(s) of this shard were in use by other processes and are left to them", "  " + held + " (pid ",
		"\nfinished 1 of 2 run(s) in "} {
		if !strings.Contains(out, want) {
			t.Errorf("sharded command output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(held, results.MetricsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the held run was written to: %v", err)
	}
	if done, _ := train.Completed(free, 1); !done {
		t.Errorf("the free run was not trained:\n%s", out)
	}

	// Released while the command waits for it.
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	t.Setenv("JOB_COMPLETION_INDEX", "")
	w := &markerWriter{marker: "held run 1/1: ", do: func() {
		go func() {
			time.Sleep(500 * time.Millisecond)
			lock.Unlock()
		}()
	}}
	err = run(context.Background(), args, w, io.Discard)
	out = w.buf.String()
	if err != nil {
		t.Fatalf("unsharded command: %v\n%s", err, out)
	}
	if !strings.Contains(out, ": moving on") || !strings.Contains(out, "held run 1/1: ") || strings.Count(out, "epoch 1/1  loss") != 1 ||
		strings.Count(out, "already complete (1 epochs)") != 1 {
		t.Errorf("unsharded command output:\n%s", out)
	}
	if done, _ := train.Completed(held, 1); !done {
		t.Errorf("the held run was not trained after its lock was released:\n%s", out)
	}
}

// markerWriter calls do once when the output contains marker.
type markerWriter struct {
	buf    bytes.Buffer
	marker string
	do     func()
	done   bool
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.marker) {
		w.done = true
		w.do()
	}
	return len(p), nil
}

// helperEnv carries the arguments of TestHelperCLI's process.
const helperEnv = "CMEMAE_TEST_CLI_ARGS"

// TestHelperCLI is not a test: it is the command line, run in a child
// process by TestIdenticalCommandsAtOnce.
func TestHelperCLI(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("helper process for TestIdenticalCommandsAtOnce")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(exitCode(run(context.Background(), args, os.Stdout, os.Stderr), os.Stderr))
}

// The reliability issue's scenario: N identical commands started at once
// into one results directory, as separate processes. All exit 0, every run
// is trained exactly once, and each epoch is exactly once in metrics.csv
// (without the lock: 1,2,1,3,…).
func TestIdenticalCommandsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 processes")
	}
	const n = 3
	root := t.TempDir()
	args := []string{"datamodule.targets=[1,2]", "datamodule.num_train_samples=32", "trainer.max_epochs=2",
		"save_checkpoints_every_n_epochs=1", "results_dir=" + root, "-max-test-images", "50"}
	raw, _ := json.Marshal(args)
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, n)
	errs := make([]error, n)
	for i := range n {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCLI$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+string(raw), "GOMLX_BACKEND=go", data.EnvOffline+"=1",
			"SLURM_ARRAY_TASK_ID=", "JOB_COMPLETION_INDEX=")
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = cmd.Wait() })
	}
	wg.Wait()
	all := ""
	for i := range n {
		if errs[i] != nil {
			t.Errorf("command %d: %v\n%s", i, errs[i], outs[i].String())
		}
		all += outs[i].String()
	}
	// Two runs of two epochs: each epoch line appears once over all processes.
	for _, line := range []string{"epoch 1/2  loss", "epoch 2/2  loss"} {
		if c := strings.Count(all, line); c != 2 {
			t.Errorf("%q appears %d times over %d processes, want 2 (each run trained once)", line, c, n)
		}
	}
	exps, err := (&config.Parser{}).Parse(args[:5]...)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []int{1, 2} {
		rows, err := results.ReadCSV(filepath.Join(exps[0].RunDir([]int{target}), results.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		var epochs []int
		for _, r := range rows {
			epochs = append(epochs, r.Epoch)
		}
		if !slices.Equal(epochs, []int{1, 2}) {
			t.Errorf("target %d: metrics.csv epochs %v, want [1 2]", target, epochs)
		}
	}
}
