package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/results"
)

// TestExportWeights: an exported checkpoint holds exactly the model's
// variables with the source's values, no optimiser state, the source's
// state under its epoch's name, and is smaller than the source.
func TestExportWeights(t *testing.T) {
	dir := t.TempDir()
	e := tinyExperiment("memae", 64, 2)
	mustRun(t, runOpts(t, e, []int{3}, dir))

	dst := filepath.Join(t.TempDir(), "exported")
	if err := ExportWeights(dir, dst); err != nil {
		t.Fatalf("ExportWeights: %v", err)
	}
	src, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(filepath.Join(dst, results.CheckpointsDir, "epoch_0002"))
	if err != nil {
		t.Fatalf("loading the exported checkpoint: %v", err)
	}
	if got.State.Epoch != 2 || got.State.Model != src.State.Model || got.State.Seed != src.State.Seed {
		t.Errorf("exported state %+v, want the source's %+v", got.State, src.State)
	}
	var model, optim int
	for v := range src.Store.IterVariables() {
		ev := got.Store.GetVariable(v.Path())
		if optimizerVariable(v.Path()) {
			optim++
			if ev != nil {
				t.Errorf("optimiser variable %s was exported", v.Path())
			}
			continue
		}
		model++
		if ev == nil {
			t.Errorf("model variable %s is missing from the export", v.Path())
			continue
		}
		a, _ := v.Value()
		b, _ := ev.Value()
		if !a.Equal(b) {
			t.Errorf("variable %s: exported value differs from the source", v.Path())
		}
	}
	if optim == 0 || model == 0 {
		t.Fatalf("source has %d model and %d optimiser variables; want both", model, optim)
	}
	for _, want := range []string{"/memory/items", "/decoder/convt_3/weights", "/encoder/bn_0/running_var"} {
		if got.Store.GetVariable(want) == nil {
			t.Errorf("%s missing from the export", want)
		}
	}
	size := func(d string) int64 {
		st, err := os.Stat(filepath.Join(d, VariablesFile))
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if s, g := size(src.Dir), size(got.Dir); g*2 > s {
		t.Errorf("exported variables.bin is %d bytes, source %d: want less than half", g, s)
	}
	if err := ExportWeights(filepath.Join(dir, "nope"), dst); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("ExportWeights of a missing checkpoint: %v, want an error naming it", err)
	}
}
