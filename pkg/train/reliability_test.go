package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// smallCheckpoint writes a checkpoint of two hand-made variables into
// runDir/checkpoints/epoch_0002 and returns its directory.
func smallCheckpoint(t *testing.T, runDir string) string {
	t.Helper()
	store := model.NewStore()
	if _, err := store.CreateVariable("/a/w", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVariable("/b/step", tensors.FromScalar(int64(7))); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateVariable(models.DefaultMemoryPath, tensors.FromShape(shapes.Make(dtypes.Float32, 1, 10, 64))); err != nil {
		t.Fatal(err)
	}
	st := CheckpointState{Epoch: 2, Seed: 1, Target: []int{3}, Conditional: models.CondNone,
		Model: models.DefaultConfig("mnist-flat", models.KindMemAE)}
	if err := SaveCheckpoint(runDir, store, st); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(runDir, results.CheckpointsDir, CheckpointName(2))
}

func gobStream(t *testing.T, values ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestCheckpointRoundTripAndPermissions(t *testing.T) {
	run := t.TempDir()
	dir := smallCheckpoint(t, run)
	cp, err := LoadCheckpoint(run)
	if err != nil {
		t.Fatal(err)
	}
	w := cp.Store.GetVariable("/a/w")
	if w == nil {
		t.Fatal("variable /a/w missing")
	}
	v, _ := w.Value()
	got, _ := tensors.CopyFlatData[float32](v)
	if !slices.Equal(got, []float32{1, 2, 3, 4, 5, 6}) || !slices.Equal(v.Shape().Dimensions, []int{2, 3}) {
		t.Errorf("/a/w = %v %v", got, v.Shape())
	}
	s, _ := cp.Store.GetVariable("/b/step").Value()
	if s.Shape().DType != dtypes.Int64 || tensors.ToScalar[int64](s) != 7 {
		t.Errorf("/b/step = %v", s)
	}
	// Checkpoint directories are 0755 like the rest of the results (was 0700).
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o755 {
		t.Errorf("checkpoint directory mode %o, want 755", perm)
	}
}

// A corrupt variables.bin gives an error naming the file: no makeslice
// panic, no allocation from a count in the file.
func TestCorruptVariables(t *testing.T) {
	run := t.TempDir()
	dir := smallCheckpoint(t, run)
	path := filepath.Join(dir, VariablesFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f32 := dtypes.Float32
	cases := map[string][]byte{
		"empty":           {},
		"huge count":      gobStream(t, 1<<60),
		"negative count":  gobStream(t, -5),
		"count too large": gobStream(t, 1000, savedVar{Path: "/x"}),
		"truncated":       good[:len(good)/2],
		"garbage":         bytes.Repeat([]byte{0xff, 0x13, 0x00, 0x7f}, 64),
		"huge shape":      gobStream(t, 1, savedVar{Path: "/x"}, f32, []int{1 << 40, 1 << 40}, -1, false, 0, []float32{1}),
		"negative dim":    gobStream(t, 1, savedVar{Path: "/x"}, f32, []int{-3}, -1, false, 0, []float32{1}),
		"wrong length":    gobStream(t, 1, savedVar{Path: "/x"}, f32, []int{2, 2}, -1, false, 0, []float32{1, 2, 3}),
		"tuples":          gobStream(t, 1, savedVar{Path: "/x"}, f32, []int{1}, -1, false, 1<<50),
		"bad dtype":       gobStream(t, 1, savedVar{Path: "/x"}, dtypes.DType(200), []int{1}, -1, false, 0, []float32{1}),
		"trailing data":   append(slices.Clone(good), gobStream(t, 42)...),
		"message too big": {0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	// One flipped bit in the data of the last variable: only the checksum sees it.
	flipped := slices.Clone(good)
	flipped[len(flipped)-3] ^= 0x10
	cases["flipped bit"] = flipped
	check := func(name string, content []byte) error {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(run)
		if err == nil {
			t.Errorf("%s: LoadCheckpoint accepted a corrupt variables.bin", name)
			return nil
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "delete this checkpoint directory") {
			t.Errorf("%s: error does not name %s and the fix: %v", name, path, err)
		}
		return err
	}
	for name, content := range cases {
		if err := check(name, content); err != nil && !strings.Contains(err.Error(), "SHA-256") {
			t.Errorf("%s: %v, want the checksum error", name, err)
		}
	}
	// Without the checksum (checkpoints written before it), the decoder alone
	// must refuse the same files, except a flipped bit, which it cannot see.
	statePath := filepath.Join(dir, StateFile)
	st, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(st, &m); err != nil || m["variables_sha256"] == nil {
		t.Fatalf("state.json without variables_sha256 (%v): %s", err, st)
	}
	delete(m, "variables_sha256")
	legacy, _ := json.Marshal(m)
	if err := os.WriteFile(statePath, legacy, 0o644); err != nil {
		t.Fatal(err)
	}
	delete(cases, "flipped bit")
	for name, content := range cases {
		check(name+" (no checksum)", content)
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(run); err != nil {
		t.Errorf("an intact checkpoint without a checksum: %v", err)
	}
	// The error path of a file that is a directory.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(run); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("variables.bin a directory: %v", err)
	}
}

// state.json is checked: its epoch against the directory name, no negative
// epochs, valid model and targets.
func TestStateChecked(t *testing.T) {
	run := t.TempDir()
	dir := smallCheckpoint(t, run)
	path := filepath.Join(dir, StateFile)
	edit := func(f func(st map[string]any)) {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		f(st)
		out, _ := json.Marshal(st)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	orig, _ := os.ReadFile(path)
	for _, c := range []struct {
		name string
		f    func(map[string]any)
		want string
	}{
		{"epoch 99 in epoch_0002", func(st map[string]any) { st["epoch"] = 99 }, "says epoch 99 but the directory is the checkpoint of epoch 2"},
		{"negative epoch", func(st map[string]any) { st["epoch"] = -5 }, "negative epoch -5"},
		{"no targets", func(st map[string]any) { st["targets"] = []int{} }, "no targets"},
		{"target 12", func(st map[string]any) { st["targets"] = []int{12} }, "target class 12 out of range"},
		{"bad arch", func(st map[string]any) { st["model"].(map[string]any)["Arch"] = "nope" }, `unknown arch "nope"`},
		{"memory 0", func(st map[string]any) { st["model"].(map[string]any)["MemorySize"] = 0 }, "MemorySize must be >= 1"},
		{"conditional", func(st map[string]any) { st["conditional"] = "maybe" }, `conditional "maybe"`},
		{"format", func(st map[string]any) { st["format"] = 7 }, "format 7"},
		{"memory size 20", func(st map[string]any) { st["model"].(map[string]any)["MemorySize"] = 20 }, "describes memories of shape [1 20 64], but variables.bin holds (Float32)[1, 10, 64]"},
		{"two memories", func(st map[string]any) {
			st["model"].(map[string]any)["NumConditions"] = 2
			st["targets"] = []int{3, 4}
		}, "describes memories of shape [2 10 64]"},
	} {
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		edit(c.f)
		_, err := LoadCheckpoint(run)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: err = %v, want %q naming %s", c.name, err, c.want, dir)
		}
	}
	for name, content := range map[string]string{"not JSON": "{epoch: 3", "two objects": string(orig) + "{}", "empty": ""} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(run); err == nil || !strings.Contains(err.Error(), StateFile) {
			t.Errorf("state.json %s: %v", name, err)
		}
	}
	// A checkpoint copied to a directory of another name is still readable.
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "best")
	if err := os.Rename(dir, other); err != nil {
		t.Fatal(err)
	}
	if cp, err := LoadCheckpoint(other); err != nil || cp.State.Epoch != 2 {
		t.Errorf("renamed checkpoint: %v", err)
	}
}

// trainedTinyRun trains a tiny MemAE run of digit 3 for epochs epochs in a
// new directory and returns its options, directory and metrics.csv path.
func trainedTinyRun(t *testing.T, epochs int) (opts Options, dir, metrics string) {
	e := tinyExperiment("memae", 16, epochs)
	e.Datamodule.BatchSize = 16
	dir = t.TempDir()
	opts = runOpts(t, e, []int{3}, dir)
	opts.MaxTestImages = 60
	mustRun(t, opts)
	return opts, dir, filepath.Join(dir, results.MetricsFile)
}

// A deleted metrics.csv with checkpoints present: the resumed run says which
// epochs its metrics lack and how to get them.
func TestResumeWithoutMetricsWarns(t *testing.T) {
	opts, dir, metrics := trainedTinyRun(t, 2)
	if err := os.Remove(metrics); err != nil {
		t.Fatal(err)
	}
	opts.Experiment.Trainer.MaxEpochs = 3
	var progress bytes.Buffer
	opts.Progress = &progress
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.MissingEpochs, []int{1, 2}) {
		t.Errorf("MissingEpochs = %v, want [1 2]", res.MissingEpochs)
	}
	if !strings.Contains(progress.String(), "WARNING: "+metrics+" lacks the rows of epoch(s) 1-2") ||
		!strings.Contains(progress.String(), "delete "+dir+" and run again") {
		t.Errorf("no clear warning in the progress output:\n%s", progress.String())
	}
	rows, err := results.ReadCSV(metrics)
	if err != nil || len(rows) != 1 || rows[0].Epoch != 3 {
		t.Errorf("metrics after resume: %v rows %v", err, rows)
	}
	// Complete metrics: no warning.
	opts.Experiment.Trainer.MaxEpochs = 3
	progress.Reset()
	dir2 := t.TempDir()
	opts.Dir = dir2
	opts.Experiment.Trainer.MaxEpochs = 1
	mustRun(t, opts)
	opts.Experiment.Trainer.MaxEpochs = 2
	res = mustRun(t, opts)
	if len(res.MissingEpochs) != 0 || strings.Contains(progress.String(), "WARNING") {
		t.Errorf("complete metrics warned: %v\n%s", res.MissingEpochs, progress.String())
	}
}

// A run directory holding trained epochs' metrics but no checkpoint
// (exported results, or checkpoints deleted to save space) is refused, its
// metrics.csv left byte for byte; a stale init evaluation is replaced.
func TestNoCheckpointKeepsTrainedMetrics(t *testing.T) {
	opts, dir, metrics := trainedTinyRun(t, 1)
	if err := os.RemoveAll(filepath.Join(dir, "checkpoints")); err != nil {
		t.Fatal(err)
	}
	if cps, err := ListCheckpoints(dir); err != nil || len(cps) != 0 {
		t.Fatalf("checkpoints left after removing them: %v %v", cps, err)
	}
	// A few-shot source (from_checkpoint) there: the error says why.
	if _, err := ResolveCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "holds no checkpoint, only its metrics") ||
		!strings.Contains(err.Error(), "-checkpoints=last") {
		t.Errorf("ResolveCheckpoint(run dir without checkpoints) = %v", err)
	}
	before, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	opts.Experiment.Trainer.MaxEpochs = 2
	_, err = Run(context.Background(), opts)
	if !errors.Is(err, ErrMetricsWithoutCheckpoint) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "(epochs up to 1)") ||
		!strings.Contains(err.Error(), "move metrics.csv away") {
		t.Errorf("Run on trained metrics without checkpoints: err = %v, want a refusal naming the epochs and the fix", err)
	}
	if after, _ := os.ReadFile(metrics); !bytes.Equal(after, before) {
		t.Errorf("metrics.csv changed by the refused run:\n%s\nwas\n%s", after, before)
	}

	// Unreadable metrics are not removed either.
	if err := os.WriteFile(metrics, []byte("not,a\nmetrics file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err = Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("Run on unreadable metrics without checkpoints: err = %v", err)
	}

	// Only an init evaluation (epoch 0): stale, replaced by the new run's.
	stale := []results.Row{{Experiment: "old", Params: "p", Seed: 9, Target: "3", Condition: 0, Epoch: 0, AUROC: 0.5}}
	if err := results.WriteCSV(metrics, stale); err != nil {
		t.Fatal(err)
	}
	opts.Experiment.Trainer.MaxEpochs = 1
	mustRun(t, opts)
	if rows, err := results.ReadCSV(metrics); err != nil || len(rows) == 0 || slices.ContainsFunc(rows, func(r results.Row) bool { return r.Experiment == "old" }) {
		t.Errorf("metrics after a fresh run over a stale init evaluation: %v %+v", err, rows)
	}
}

func TestEpochRanges(t *testing.T) {
	if got := epochRanges([]int{0, 1, 2, 3, 5, 7, 8}); got != "0-3, 5, 7-8" {
		t.Errorf("epochRanges = %q", got)
	}
}
