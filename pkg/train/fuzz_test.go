package train

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/models"
)

// seedCheckpoint writes a small real checkpoint and returns its two files.
func seedCheckpoint(f *testing.F) (variables, state []byte) {
	dir := f.TempDir()
	store := model.NewStore()
	_, _ = store.CreateVariable("/a/w", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	_, _ = store.CreateVariable("/b/step", tensors.FromScalar(int64(7)))
	st := CheckpointState{Epoch: 2, Seed: 1, Target: []int{3}, Conditional: models.CondNone,
		Model: models.DefaultConfig("mnist-flat", models.KindMemAE)}
	if err := SaveCheckpoint(dir, store, st); err != nil {
		f.Fatal(err)
	}
	cp := filepath.Join(dir, "checkpoints", CheckpointName(2))
	variables, err := os.ReadFile(filepath.Join(cp, VariablesFile))
	if err != nil {
		f.Fatal(err)
	}
	state, err = os.ReadFile(filepath.Join(cp, StateFile))
	if err != nil {
		f.Fatal(err)
	}
	return variables, state
}

// FuzzVariables: any variables.bin content decodes into tensors whose data
// matches their shapes, or gives an error; no panic, no allocation beyond
// what the input backs.
func FuzzVariables(f *testing.F) {
	good, _ := seedCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		vars, err := decodeVariables(in)
		if err != nil {
			return
		}
		for _, v := range vars {
			if v.Value == nil {
				t.Fatalf("variable %q without a value", v.Path)
			}
			n := -1
			if err := v.Value.ConstFlatData(func(flat any) { n = reflect.ValueOf(flat).Len() }); err != nil {
				t.Fatal(err)
			}
			shape := v.Value.Shape()
			if n != shape.Size() || n > len(in) {
				t.Fatalf("variable %q: %d values for shape %s from %d bytes", v.Path, n, shape, len(in))
			}
		}
	})
}

// FuzzState: any state.json content is a checked state or an error.
func FuzzState(f *testing.F) {
	_, good := seedCheckpoint(f)
	f.Add(good)
	f.Add([]byte(`{"format":1,"epoch":-5,"targets":[3],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"NumConditions":1}}`))
	f.Add([]byte(`{"format":1,"epoch":99,"targets":[12]}`))
	f.Add([]byte(`{}{}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		st, err := decodeState(in)
		if err != nil {
			return
		}
		if st.Epoch < 0 || len(st.Target) == 0 || st.Model.Validate() != nil {
			t.Fatalf("accepted state %+v", st)
		}
		if _, err := models.New(st.Model); err != nil {
			t.Fatalf("accepted state whose model cannot be built: %v", err)
		}
	})
}

// FuzzMemoryChanges: any memory_change.csv content is chained epochs with one
// row of changes per pair, or an error; no panic.
func FuzzMemoryChanges(f *testing.F) {
	f.Add([]byte("from_epoch,to_epoch,memory_0,memory_1\n0,1,0.5,0.25\n1,5,1e-05,0\n"))
	f.Add([]byte("from_epoch,to_epoch,memory_0\n0,1,NaN\n1,2,\"3\"\n"))
	f.Add([]byte("from_epoch,to_epoch,memory_0\n-1,1,0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		epochs, changes, err := parseMemoryChanges(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(changes) == 0 || len(epochs) != len(changes)+1 {
			t.Fatalf("%d epochs for %d rows of changes", len(epochs), len(changes))
		}
		for j := range changes {
			if epochs[j+1] <= epochs[j] || len(changes[j]) != len(changes[0]) || len(changes[0]) == 0 {
				t.Fatalf("epochs %v, changes %v", epochs, changes)
			}
		}
	})
}
