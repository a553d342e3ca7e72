package train

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/metrics"
)

// MemoryChangeFile, in a run directory, holds the memory change between every
// two consecutive checkpoints of the run as trained. Exporting only some of a
// run's checkpoints (thesis_experiments export -checkpoints=0,1,5,last) writes
// it, so that the memory analysis of the exported run still covers every
// epoch. Its header is
//
//	from_epoch,to_epoch,memory_0[,memory_1,…]
//
// with one row per pair of consecutive checkpoints and one column per memory
// (one per condition for C-MemAE).
const MemoryChangeFile = "memory_change.csv"

// MemoryChanges returns the epochs of a run's checkpoints (0 for init) and,
// for each consecutive pair and each memory, the memory change
// 1 − mean_i (cos(m_i, prev_i) + 1)/2 (changes[j][k]: from epochs[j] to
// epochs[j+1], memory k; see metrics.MemoryChange). It reads MemoryChangeFile
// when the run directory holds one (an export that left checkpoints out), and
// otherwise loads every checkpoint.
func MemoryChanges(runDir string) (epochs []int, changes [][]float64, err error) {
	path := filepath.Join(runDir, MemoryChangeFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return memoryChangesOfCheckpoints(runDir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	epochs, changes, err = parseMemoryChanges(f)
	if err != nil {
		return nil, nil, fmt.Errorf("train: %s: %w (export the run again to rewrite it)", path, err)
	}
	return epochs, changes, nil
}

// memoryChangesOfCheckpoints computes MemoryChanges from every checkpoint of
// the run.
func memoryChangesOfCheckpoints(runDir string) (epochs []int, changes [][]float64, err error) {
	cps, err := ListCheckpoints(runDir)
	if err != nil {
		return nil, nil, err
	}
	if len(cps) < 2 {
		return nil, nil, fmt.Errorf("train: %s has %d checkpoints, the memory change needs at least 2 (train with save_checkpoints_every_n_epochs=1)", runDir, len(cps))
	}
	var prev [][]float32
	for _, cp := range cps {
		ck, err := LoadCheckpoint(cp.Dir)
		if err != nil {
			return nil, nil, err
		}
		mems, err := ck.Model.Memories(ck.Store)
		if err != nil {
			return nil, nil, fmt.Errorf("train: checkpoint %s: %w", cp.Dir, err)
		}
		cur := make([][]float32, len(mems))
		for k, t := range mems {
			if cur[k], err = tensors.CopyFlatData[float32](t); err != nil {
				return nil, nil, fmt.Errorf("train: checkpoint %s: %w", cp.Dir, err)
			}
		}
		if prev != nil {
			if len(prev) != len(cur) || len(prev[0]) != len(cur[0]) {
				return nil, nil, fmt.Errorf("train: %s: the memory's shape changes at checkpoint %s", runDir, cp.Name)
			}
			row := make([]float64, len(cur))
			n, c := mems[0].Shape().Dim(0), mems[0].Shape().Dim(1)
			for k := range cur {
				row[k] = metrics.MemoryChange(prev[k], cur[k], n, c)
			}
			changes = append(changes, row)
		}
		epochs = append(epochs, cp.Epoch)
		prev = cur
	}
	return epochs, changes, nil
}

// WriteMemoryChanges writes the memory changes of a run (as MemoryChanges
// returns them) into the run directory dstRun as MemoryChangeFile,
// atomically.
func WriteMemoryChanges(dstRun string, epochs []int, changes [][]float64) error {
	if len(changes) == 0 || len(epochs) != len(changes)+1 {
		return fmt.Errorf("train: WriteMemoryChanges: %d epochs for %d changes; want one more epoch than changes, and at least one change", len(epochs), len(changes))
	}
	path := filepath.Join(dstRun, MemoryChangeFile)
	if err := os.MkdirAll(dstRun, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		header := []string{"from_epoch", "to_epoch"}
		for k := range changes[0] {
			header = append(header, fmt.Sprintf("memory_%d", k))
		}
		if err := cw.Write(header); err != nil {
			return err
		}
		for j, row := range changes {
			rec := []string{strconv.Itoa(epochs[j]), strconv.Itoa(epochs[j+1])}
			for _, v := range row {
				rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}

// parseMemoryChanges reads a MemoryChangeFile: its header, then rows whose
// epochs chain (each row starts where the previous one ended) and whose
// changes are numbers.
func parseMemoryChanges(r io.Reader) (epochs []int, changes [][]float64, err error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("empty file")
	}
	if err != nil {
		return nil, nil, err
	}
	if len(header) < 3 || header[0] != "from_epoch" || header[1] != "to_epoch" {
		return nil, nil, fmt.Errorf("header %q, want from_epoch,to_epoch,memory_0,…", header)
	}
	for k, name := range header[2:] {
		if want := fmt.Sprintf("memory_%d", k); name != want {
			return nil, nil, fmt.Errorf("header column %d is %q, want %q", k+3, name, want)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		from, err1 := strconv.Atoi(rec[0])
		to, err2 := strconv.Atoi(rec[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, fmt.Errorf("line %d: epochs: %w", line, err)
		}
		if len(epochs) == 0 {
			epochs = append(epochs, from)
		}
		if last := epochs[len(epochs)-1]; from != last || to <= from {
			return nil, nil, fmt.Errorf("line %d: epochs %d→%d do not continue from epoch %d", line, from, to, last)
		}
		row := make([]float64, len(rec)-2)
		for k, s := range rec[2:] {
			if row[k], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, nil, fmt.Errorf("line %d, memory_%d: %w", line, k, err)
			}
		}
		epochs = append(epochs, to)
		changes = append(changes, row)
	}
	if len(changes) == 0 {
		return nil, nil, errors.New("no rows")
	}
	return epochs, changes, nil
}
