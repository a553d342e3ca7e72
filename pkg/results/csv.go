package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cmemae/cmemae/pkg/atomicfile"
)

// Row is one line of metrics.csv: the metrics of one tested class
// (Condition) of one run after one epoch.
type Row struct {
	Experiment string  // experiment name, e.g. "baseline_mnist"
	Params     string  // params slug, e.g. "model.memory_size=50" or "default"
	Seed       int64   // random seed of the run
	Target     string  // normal class(es) the model was trained on: "3" or "1-7"
	Condition  int     // the class tested (one of the targets)
	Epoch      int     // 1-based epoch; 0 = evaluation before training
	TrainLoss  float64 // mean training loss of the epoch (MSE + weighted entropy)
	AUROC      float64 // AUROC of the normal-confidence score against "is normal"
	// MeanErrNormal and MeanErrAnomalous are the mean per-image reconstruction
	// errors of the normal and of the anomalous test images.
	MeanErrNormal, MeanErrAnomalous float64
	// SelectionAccuracy is how often self-selection (unknown condition) chose
	// the memory of the tested class; NaN where it does not apply.
	SelectionAccuracy float64
}

// Header is the column list of metrics.csv.
var Header = []string{
	"experiment", "params", "seed", "target", "condition", "epoch",
	"train_loss", "auroc", "mean_err_normal", "mean_err_anomalous", "selection_accuracy",
}

func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (r Row) record() []string {
	return []string{
		r.Experiment, r.Params, strconv.FormatInt(r.Seed, 10), r.Target,
		strconv.Itoa(r.Condition), strconv.Itoa(r.Epoch),
		formatFloat(r.TrainLoss), formatFloat(r.AUROC), formatFloat(r.MeanErrNormal),
		formatFloat(r.MeanErrAnomalous), formatFloat(r.SelectionAccuracy),
	}
}

func encodeRows(rows []Row, header bool) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if header {
		if err := w.Write(Header); err != nil {
			return nil, err
		}
	}
	for _, r := range rows {
		if err := w.Write(r.record()); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// AppendCSV appends rows to the metrics file at path, creating it (and its
// directory) with the header if it does not exist. The write is durable: the
// file is fsynced before AppendCSV returns (and its directory when the file was
// created). A torn last line left by a crash is cut off before appending.
func AppendCSV(path string, rows []Row) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results: creating directory of %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("results: opening %s: %w", path, err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("results: seeking %s: %w", path, err)
	}
	if size > 0 {
		if size, err = cutTornLine(f, size); err != nil {
			return fmt.Errorf("results: repairing %s: %w", path, err)
		}
	}
	data, err := encodeRows(rows, size == 0)
	if err != nil {
		return fmt.Errorf("results: encoding rows for %s: %w", path, err)
	}
	if _, err := f.WriteAt(data, size); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("results: syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("results: closing %s: %w", path, err)
	}
	if size == 0 {
		atomicfile.SyncDir(filepath.Dir(path))
	}
	return nil
}

// cutTornLine truncates f after its last newline if it does not end with one
// and returns the new size.
func cutTornLine(f *os.File, size int64) (int64, error) {
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return size, err
	}
	if last[0] == '\n' {
		return size, nil
	}
	// Scan backwards for the last newline.
	const chunk = 4096
	buf := make([]byte, chunk)
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return size, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			newSize := start + int64(i) + 1
			return newSize, f.Truncate(newSize)
		}
		end = start
	}
	return 0, f.Truncate(0)
}

// WriteCSV replaces the metrics file at path by rows (with header), atomically:
// the rows are written to a temporary file, fsynced and renamed over path. Use it
// to drop the rows of epochs after the checkpoint a run resumes from.
func WriteCSV(path string, rows []Row) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results: creating directory of %s: %w", path, err)
	}
	data, err := encodeRows(rows, true)
	if err != nil {
		return fmt.Errorf("results: encoding rows for %s: %w", path, err)
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	return nil
}

// ReadCSV reads a metrics file written by AppendCSV. Columns are matched by
// name, so files with extra columns can be read; missing float columns read as
// NaN. A torn last line (no trailing newline, e.g. after a crash) is ignored.
func ReadCSV(path string) ([]Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: reading %s: %w", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		} else {
			data = nil
		}
	}
	rows, err := parseCSV(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("results: reading %s: %w", path, err)
	}
	return rows, nil
}

func parseCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, required := range []string{"seed", "target", "condition", "epoch"} {
		if _, ok := col[required]; !ok {
			return nil, fmt.Errorf("missing column %q in header %v", required, header)
		}
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row, err := parseRecord(rec, col)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func parseRecord(rec []string, col map[string]int) (Row, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var errs []error
	integer := func(name string) int64 {
		v, err := strconv.ParseInt(get(name), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %s: %w", name, err))
		}
		return v
	}
	float := func(name string) float64 {
		s := get(name)
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("column %s: %w", name, err))
		}
		return v
	}
	r := Row{
		Experiment:        get("experiment"),
		Params:            get("params"),
		Seed:              integer("seed"),
		Target:            get("target"),
		Condition:         int(integer("condition")),
		Epoch:             int(integer("epoch")),
		TrainLoss:         float("train_loss"),
		AUROC:             float("auroc"),
		MeanErrNormal:     float("mean_err_normal"),
		MeanErrAnomalous:  float("mean_err_anomalous"),
		SelectionAccuracy: float("selection_accuracy"),
	}
	return r, errors.Join(errs...)
}
