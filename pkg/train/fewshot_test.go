package train

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/models"
)

var (
	sourcesOnce              sync.Once
	singleSource, condSource string
	sourcesErr               error
)

// fewShotSources trains (once per test binary) a one-class MemAE on digit 0 and
// a conditional MemAE on digits 0 and 1, the checkpoints few-shot runs start from.
func fewShotSources(t *testing.T) (single, cond string) {
	t.Helper()
	sourcesOnce.Do(func() {
		root, err := tempRoot()
		if err != nil {
			sourcesErr = err
			return
		}
		e := tinyExperiment("memae", 192, 3)
		e.Datamodule.BatchSize = 16
		e.Model.LearningRate = 3e-3
		singleSource = filepath.Join(root, "single")
		o := runOpts(t, e, []int{0}, singleSource)
		o.MaxTestImages = 50
		if _, sourcesErr = Run(context.Background(), o); sourcesErr != nil {
			return
		}
		e.Conditional = models.CondKnown
		condSource = filepath.Join(root, "cond")
		o = runOpts(t, e, []int{0, 1}, condSource)
		o.MaxTestImages = 50
		_, sourcesErr = Run(context.Background(), o)
	})
	if sourcesErr != nil {
		t.Fatalf("training the few-shot sources: %v", sourcesErr)
	}
	return singleSource, condSource
}

// TestFewShotStrategies runs every memory initialisation of spec section 6
// with k = 8 samples of digit 5 and checks the memory size it yields.
func TestFewShotStrategies(t *testing.T) {
	single, cond := fewShotSources(t)
	const k = 8
	cases := []struct {
		name         string
		from         string
		transformers []config.Transformer
		wantN        int
		frozen       bool
	}{
		{"transfer", single, []config.Transformer{"transfer"}, 10, false},
		{"delete_memory", single, []config.Transformer{"transfer", "delete_memory"}, 10, false},
		{"copy_samples", single, []config.Transformer{"transfer", "copy_samples"}, k, false},
		{"copy_best_fitting", cond, []config.Transformer{"transfer", "copy_best_fitting"}, k, false},
		{"conditional_to_deleted", cond, []config.Transformer{"transfer", "conditional_to_deleted"}, 10, false},
		{"freeze", single, []config.Transformer{"transfer", "freeze"}, 10, true},
		{"copy_samples_scratch", "", []config.Transformer{"copy_samples"}, k, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := tinyExperiment("memae", k, 1)
			e.Datamodule.BatchSize = 4
			e.FromCheckpoint = c.from
			e.Model.ModelTransformers = c.transformers
			dir := t.TempDir()
			o := runOpts(t, e, []int{5}, dir)
			o.MaxTestImages = 100
			o.EvaluateInit = c.frozen
			res := mustRun(t, o)
			if c.frozen {
				// Frozen: the epoch-1 evaluation equals the one before training.
				if len(res.Epochs) != 2 || res.Epochs[0].Epoch != 0 || res.Epochs[0].MeanAUROC != res.Epochs[1].MeanAUROC {
					t.Errorf("frozen run epochs %+v, want epoch 0 and 1 with the same AUROC", res.Epochs)
				}
			}
			cfg := res.Model.Config()
			if cfg.NumConditions != 1 || cfg.MemorySize != c.wantN {
				t.Errorf("memories %d of size %d, want 1 of size %d", cfg.NumConditions, cfg.MemorySize, c.wantN)
			}
			mems, err := res.Model.Memories(res.Store)
			if err != nil || len(mems) != 1 || mems[0].Shape().Dim(0) != c.wantN {
				t.Fatalf("Memories: %v, %v", mems, err)
			}
			if res.Frozen != c.frozen {
				t.Errorf("frozen = %v, want %v", res.Frozen, c.frozen)
			}
			initCp, err := LoadCheckpoint(filepath.Join(dir, "checkpoints", InitCheckpoint))
			if err != nil {
				t.Fatal(err)
			}
			initMem, _ := initCp.Model.Memories(initCp.Store)
			before, _ := tensors.CopyFlatData[float32](initMem[0])
			after, _ := tensors.CopyFlatData[float32](mems[0])
			if c.frozen != slices.Equal(before, after) {
				t.Errorf("memory unchanged by training = %v, want %v", slices.Equal(before, after), c.frozen)
			}
			t.Logf("%s: AUROC %.4f after 1 epoch", c.name, res.Last().MeanAUROC)

			src := c.from
			if src == "" {
				return
			}
			srcCp, err := LoadCheckpoint(src)
			if err != nil {
				t.Fatal(err)
			}
			srcMems, _ := srcCp.Model.Memories(srcCp.Store)
			switch c.name {
			case "transfer", "freeze":
				s, _ := tensors.CopyFlatData[float32](srcMems[0])
				if !slices.Equal(s, before) {
					t.Errorf("transfer did not keep the source memory")
				}
			case "copy_best_fitting":
				// Every item is one of the conditional source's items.
				var pool [][]float32
				for _, m := range srcMems {
					d, _ := tensors.CopyFlatData[float32](m)
					for i := 0; i < len(d); i += 64 {
						pool = append(pool, d[i:i+64])
					}
				}
				for i := 0; i < len(before); i += 64 {
					if !slices.ContainsFunc(pool, func(p []float32) bool { return slices.Equal(p, before[i:i+64]) }) {
						t.Errorf("item %d is not a source memory item", i/64)
					}
				}
			case "delete_memory", "conditional_to_deleted":
				s, _ := tensors.CopyFlatData[float32](srcMems[0])
				if slices.Equal(s[:64], before[:64]) {
					t.Errorf("memory was not re-initialised")
				}
				for _, v := range before {
					if v < -0.125 || v > 0.125 { // ±1/√64
						t.Fatalf("fresh item value %v outside ±1/√C", v)
					}
				}
			}
		})
	}
}

// TestFewShotErrors checks misuse of the transformers.
func TestFewShotErrors(t *testing.T) {
	_, cond := fewShotSources(t)
	e := tinyExperiment("memae", 8, 1)
	e.FromCheckpoint = cond
	e.Model.ModelTransformers = []config.Transformer{"transfer"}
	_, err := Run(context.Background(), runOpts(t, e, []int{5}, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "conditional_to_deleted") {
		t.Errorf("conditional source into a one-memory run: err = %v, want a hint to conditional_to_deleted", err)
	}
	e = tinyExperiment("ae", 8, 1)
	e.Model.ModelTransformers = []config.Transformer{"copy_samples"}
	_, err = Run(context.Background(), runOpts(t, e, []int{5}, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "needs a memory model") {
		t.Errorf("copy_samples on an AE: err = %v", err)
	}
}
