package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// siblingExperiments are a C-MemAE on digits 0 and 1 evaluated three ways:
// condition known, self-selected by the sum and by the max of similarities.
func siblingExperiments() (known, sum, maxSel Sibling) {
	e := tinyExperiment("memae", 96, 2)
	e.Datamodule.BatchSize = 16
	e.Model.LearningRate = 3e-3
	e.Conditional = models.CondKnown
	known = Sibling{Experiment: e}
	e.Conditional = models.CondUnknown
	sum = Sibling{Experiment: e}
	e.Model.SelectionMetric = "max"
	maxSel = Sibling{Experiment: e}
	return known, sum, maxSel
}

// readRun returns a run directory's metrics.csv, config.yaml and its epoch 2
// checkpoint's variables and state (without its time).
func readRun(t *testing.T, dir string) (rows []results.Row, cfg, vars []byte, state CheckpointState) {
	t.Helper()
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	read := func(parts ...string) []byte {
		b, err := os.ReadFile(filepath.Join(append([]string{dir}, parts...)...))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	last := CheckpointName(2)
	if err := json.Unmarshal(read(results.CheckpointsDir, last, StateFile), &state); err != nil {
		t.Fatal(err)
	}
	state.Time = ""
	return rows, read(results.ConfigFile), read(results.CheckpointsDir, last, VariablesFile), state
}

// TestSiblingsTrainLikeRunsOfTheirOwn trains a run with two siblings and
// compares every directory, byte for byte, with the same three runs trained
// one after another.
func TestSiblingsTrainLikeRunsOfTheirOwn(t *testing.T) {
	known, sum, maxSel := siblingExperiments()
	targets := []int{0, 1}
	alone := make([]string, 3)
	for i, sib := range []Sibling{known, sum, maxSel} {
		alone[i] = t.TempDir()
		o := runOpts(t, sib.Experiment, targets, alone[i])
		o.EvaluateInit = true // epoch 0 too
		mustRun(t, o)
	}

	together := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	opts := runOpts(t, known.Experiment, targets, together[0])
	opts.EvaluateInit = true
	var epochs [3][]int
	opts.OnEpoch = func(er EpochResult) { epochs[0] = append(epochs[0], er.Epoch) }
	for i, sib := range []Sibling{sum, maxSel} {
		sib.Dir = together[i+1]
		sib.OnEpoch = func(er EpochResult) { epochs[i+1] = append(epochs[i+1], er.Epoch) }
		opts.Siblings = append(opts.Siblings, sib)
	}
	res := mustRun(t, opts)

	if len(res.Siblings) != 2 || res.Siblings[0] == nil || res.Siblings[1] == nil {
		t.Fatalf("RunResult.Siblings = %v, want both trained along", res.Siblings)
	}
	for i, want := range [][]int{{0, 1, 2}, {0, 1, 2}, {0, 1, 2}} {
		if !reflect.DeepEqual(epochs[i], want) {
			t.Errorf("run %d: OnEpoch saw epochs %v, want %v", i, epochs[i], want)
		}
	}
	for i := range alone {
		rowsA, cfgA, varsA, stateA := readRun(t, alone[i])
		rowsT, cfgT, varsT, stateT := readRun(t, together[i])
		if len(rowsA) != 6 || len(rowsT) != 6 {
			t.Fatalf("run %d: %d rows alone, %d trained along; want epochs 0-2 × 2 conditions", i, len(rowsA), len(rowsT))
		}
		for j := range rowsA {
			a, b := rowsA[j], rowsT[j]
			if a.Epoch != b.Epoch || a.Condition != b.Condition || !sameFloat(a.TrainLoss, b.TrainLoss) || a.AUROC != b.AUROC ||
				a.MeanErrNormal != b.MeanErrNormal || a.MeanErrAnomalous != b.MeanErrAnomalous ||
				!sameFloat(a.SelectionAccuracy, b.SelectionAccuracy) {
				t.Errorf("run %d row %d: trained along %+v, alone %+v", i, j, b, a)
			}
		}
		if !bytes.Equal(cfgA, cfgT) {
			t.Errorf("run %d: config.yaml differs:\n%s\nalone:\n%s", i, cfgT, cfgA)
		}
		if !bytes.Equal(varsA, varsT) {
			t.Errorf("run %d: the last checkpoint's variables differ from the run's alone", i)
		}
		if !reflect.DeepEqual(stateA, stateT) {
			t.Errorf("run %d: checkpoint state %+v, alone %+v", i, stateT, stateA)
		}
	}
}

func sameFloat(a, b float64) bool { return a == b || (a != a && b != b) }

// TestSiblingsLeftAlone checks the siblings Run does not train along: one
// whose directory another process holds, one already further on; and the
// configurations it refuses.
func TestSiblingsLeftAlone(t *testing.T) {
	known, sum, maxSel := siblingExperiments()
	targets := []int{0, 1}

	done := t.TempDir()
	mustRun(t, runOpts(t, sum.Experiment, targets, done))
	before, _, _, _ := readRun(t, done)
	held := t.TempDir()
	lock, err := TryLockRun(held)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()

	opts := runOpts(t, known.Experiment, targets, t.TempDir())
	sum.Dir, maxSel.Dir = done, held
	opts.Siblings = []Sibling{sum, maxSel}
	res := mustRun(t, opts)
	if res.Siblings[0] != nil || res.Siblings[1] != nil {
		t.Errorf("RunResult.Siblings = %v, want both left alone", res.Siblings)
	}
	if after, _, _, _ := readRun(t, done); !reflect.DeepEqual(after, before) {
		t.Errorf("a complete sibling's metrics changed")
	}
	if _, err := os.Stat(filepath.Join(held, results.MetricsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a held sibling's directory was written: %v", err)
	}

	// A sibling whose checkpoint is corrupt is left to its own run, which
	// reports it; the run trains.
	corrupt := t.TempDir()
	mustRun(t, runOpts(t, sum.Experiment, targets, corrupt))
	last := filepath.Join(corrupt, results.CheckpointsDir, LastCheckpoint, VariablesFile)
	if err := os.WriteFile(last, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := runOpts(t, known.Experiment, targets, t.TempDir())
	var progress strings.Builder
	o.Progress = &progress
	o.Siblings = []Sibling{{Experiment: sum.Experiment, Dir: corrupt}}
	if res := mustRun(t, o); res.Siblings[0] != nil || !strings.Contains(progress.String(), corrupt+" trains on its own") {
		t.Errorf("a corrupt sibling: result %v, progress %q; want it left alone, and said", res.Siblings[0], progress.String())
	}
	if _, err := Run(context.Background(), runOpts(t, sum.Experiment, targets, corrupt)); err == nil {
		t.Error("the corrupt sibling's own run: no error")
	}

	for name, change := range map[string]func(*Sibling){
		"seed":       func(s *Sibling) { s.Experiment.Seed = 2 },
		"lr":         func(s *Sibling) { s.Experiment.Model.LearningRate = 1 },
		"itself":     func(s *Sibling) { s.Dir = opts.Dir },
		"no targets": func(s *Sibling) { s.Experiment.Conditional = models.CondNone },
	} {
		sib := Sibling{Experiment: sum.Experiment, Dir: t.TempDir()}
		change(&sib)
		o := opts
		o.Siblings = []Sibling{sib}
		_, err := Run(context.Background(), o)
		if err == nil || !strings.Contains(err.Error(), "sibling") {
			t.Errorf("%s: err = %v, want an error about the sibling", name, err)
		}
	}
}

// TestSiblingsResumeTogether interrupts a run and its sibling in the second
// epoch and runs them again: both resume from epoch 1, together, and end as
// the sibling trained alone does.
func TestSiblingsResumeTogether(t *testing.T) {
	known, sum, _ := siblingExperiments()
	targets := []int{0, 1}
	alone := t.TempDir()
	mustRun(t, runOpts(t, sum.Experiment, targets, alone))

	opts := runOpts(t, known.Experiment, targets, t.TempDir())
	sum.Dir = t.TempDir()
	opts.Siblings = []Sibling{sum}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupted := opts
	interrupted.OnStep = func(epoch, step int) {
		if epoch == 2 && step == 2 {
			cancel()
		}
	}
	if _, err := Run(ctx, interrupted); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	res := mustRun(t, opts)
	if res.ResumedFrom != 1 || res.Siblings[0] == nil || res.Siblings[0].ResumedFrom != 1 || len(res.Siblings[0].Epochs) != 1 {
		t.Fatalf("resumed from %d, sibling %+v; want both from epoch 1, together", res.ResumedFrom, res.Siblings[0])
	}
	rowsA, _, varsA, _ := readRun(t, alone)
	rowsT, _, varsT, _ := readRun(t, sum.Dir)
	if !reflect.DeepEqual(rowsA, rowsT) {
		t.Errorf("resumed sibling's metrics\n%+v\nalone\n%+v", rowsT, rowsA)
	}
	if !bytes.Equal(varsA, varsT) {
		t.Error("the resumed sibling's last checkpoint differs from the run's alone")
	}
}
