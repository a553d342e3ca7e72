package train

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// memoryOf reads the one memory of a checkpoint as float64 rows.
func memoryOf(t *testing.T, dir string) [][]float64 {
	t.Helper()
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	mems, err := ck.Model.Memories(ck.Store)
	if err != nil || len(mems) != 1 {
		t.Fatalf("memories of %s: %d, %v", dir, len(mems), err)
	}
	flat, err := tensors.CopyFlatData[float32](mems[0])
	if err != nil {
		t.Fatal(err)
	}
	n, c := mems[0].Shape().Dim(0), mems[0].Shape().Dim(1)
	rows := make([][]float64, n)
	for i := range rows {
		for _, v := range flat[i*c : (i+1)*c] {
			rows[i] = append(rows[i], float64(v))
		}
	}
	return rows
}

// TestMemoryChanges: the changes between a run's consecutive checkpoints are
// the thesis's 1 − mean_i (cos(m_i, prev_i) + 1)/2, recomputed here from the
// checkpoints' memories; written as MemoryChangeFile into a directory with
// only the last checkpoint, they read back exactly, and the file wins over
// the checkpoints there.
func TestMemoryChanges(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, runOpts(t, tinyExperiment("memae", 64, 3), []int{3}, dir))
	epochs, changes, err := MemoryChanges(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(epochs, []int{0, 1, 2, 3}) || len(changes) != 3 {
		t.Fatalf("epochs %v, %d changes; want [0 1 2 3] and 3", epochs, len(changes))
	}
	cps, err := ListCheckpoints(dir)
	if err != nil || len(cps) != 4 {
		t.Fatalf("%d checkpoints, %v", len(cps), err)
	}
	for j := range changes {
		prev, cur := memoryOf(t, cps[j].Dir), memoryOf(t, cps[j+1].Dir)
		sum := 0.0
		for i := range cur {
			dot, na, nb := 0.0, 0.0, 0.0
			for d := range cur[i] {
				dot += prev[i][d] * cur[i][d]
				na += prev[i][d] * prev[i][d]
				nb += cur[i][d] * cur[i][d]
			}
			sum += (dot/math.Sqrt(na*nb) + 1) / 2
		}
		want := 1 - sum/float64(len(cur))
		if len(changes[j]) != 1 || math.Abs(changes[j][0]-want) > 1e-6 || !(want > 0) {
			t.Errorf("change %d→%d = %v, want [%v]", epochs[j], epochs[j+1], changes[j], want)
		}
	}

	dst := filepath.Join(t.TempDir(), "exported")
	if err := ExportWeights(dir, dst); err != nil {
		t.Fatal(err)
	}
	if err := WriteMemoryChanges(dst, epochs, changes); err != nil {
		t.Fatalf("WriteMemoryChanges: %v", err)
	}
	if err := WriteMemoryChanges(dst, epochs, changes[:2]); err == nil || !strings.Contains(err.Error(), "4 epochs for 2 changes") {
		t.Errorf("WriteMemoryChanges with an epoch too many: %v", err)
	}
	gotEpochs, gotChanges, err := MemoryChanges(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotEpochs, epochs) || !slices.EqualFunc(gotChanges, changes, slices.Equal) {
		t.Errorf("read back %v %v, want %v %v", gotEpochs, gotChanges, epochs, changes)
	}
	// Without the file, the one exported checkpoint is too few.
	os.Remove(filepath.Join(dst, MemoryChangeFile))
	if _, _, err := MemoryChanges(dst); err == nil || !strings.Contains(err.Error(), "has 1 checkpoints") {
		t.Errorf("one checkpoint and no %s: error %v", MemoryChangeFile, err)
	}
}

// A damaged MemoryChangeFile is an error naming the file and what is wrong.
func TestMemoryChangesBadFile(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"empty", "", "empty file"},
		{"header only", "from_epoch,to_epoch,memory_0\n", "no rows"},
		{"bad header", "from,to,memory_0\n0,1,0.5\n", "want from_epoch,to_epoch"},
		{"bad memory column", "from_epoch,to_epoch,memory_1\n0,1,0.5\n", `want "memory_0"`},
		{"gap", "from_epoch,to_epoch,memory_0\n0,1,0.5\n2,3,0.1\n", "line 3: epochs 2→3 do not continue from epoch 1"},
		{"backwards", "from_epoch,to_epoch,memory_0\n3,1,0.5\n", "line 2: epochs 3→1"},
		{"not a number", "from_epoch,to_epoch,memory_0\n0,1,x\n", "line 2, memory_0"},
		{"bad epoch", "from_epoch,to_epoch,memory_0\n0,one,0.5\n", "line 2: epochs"},
		{"short row", "from_epoch,to_epoch,memory_0,memory_1\n0,1,0.5\n", "wrong number of fields"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, MemoryChangeFile)
			if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := MemoryChanges(dir)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, c.want)
			}
		})
	}
	// Two memories (C-MemAE), chained epochs: read as written.
	dir := t.TempDir()
	body := "from_epoch,to_epoch,memory_0,memory_1\n0,1,0.5,0.25\n1,5,1e-05,0\n"
	if err := os.WriteFile(filepath.Join(dir, MemoryChangeFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	epochs, changes, err := MemoryChanges(dir)
	if err != nil || !slices.Equal(epochs, []int{0, 1, 5}) || !slices.EqualFunc(changes, [][]float64{{0.5, 0.25}, {1e-5, 0}}, slices.Equal) {
		t.Errorf("MemoryChanges = %v, %v, %v", epochs, changes, err)
	}
}
