package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/models"
)

// Reading checkpoints treats the files as untrusted: a corrupt or hostile
// variables.bin or state.json gives an error naming the file, never a panic
// or an allocation larger than the file.

// maxVariablesFile bounds the size of a variables.bin that is read into
// memory (the thesis's largest model has a few MB of variables).
const maxVariablesFile = 4 << 30

// readVariables reads the variables of a variables.bin file written by
// writeVariables; a non-empty wantSHA256 (the checkpoint state's) must match
// the file's SHA-256.
func readVariables(path, wantSHA256 string) ([]loadedVar, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > maxVariablesFile {
		return nil, fmt.Errorf("%s: %d bytes, more than any checkpoint of these models (%d); the file is not a checkpoint", path, st.Size(), int64(maxVariablesFile))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if wantSHA256 != "" {
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != wantSHA256 {
			return nil, fmt.Errorf("%s is corrupt: its SHA-256 differs from the one %s recorded when it was written; delete this checkpoint directory to resume from an earlier one", path, StateFile)
		}
	}
	vars, err := decodeVariables(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is corrupt (%w); delete this checkpoint directory to resume from an earlier one", path, err)
	}
	return vars, nil
}

// decodeVariables decodes the content of a variables.bin file. It checks the
// gob message framing against the length of raw first, so that no count
// read from the data can make the decoder allocate more than len(raw), and
// checks every shape before its data is read.
func decodeVariables(raw []byte) (vars []loadedVar, err error) {
	defer func() {
		// A last line of defence: the gob decoder and the tensor
		// constructors must not crash the program on hostile input.
		if r := recover(); r != nil {
			vars, err = nil, fmt.Errorf("undecodable content: %v", r)
		}
	}()
	messages, err := gobMessages(raw)
	if err != nil {
		return nil, err
	}
	dec := gob.NewDecoder(bytes.NewReader(raw))
	var n int
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("reading the number of variables: %w", truncatedGob(err))
	}
	// Each variable takes at least three messages (header, shape, data).
	if n < 0 || n > messages/3 {
		return nil, fmt.Errorf("header announces %d variables, the file can hold at most %d", n, messages/3)
	}
	for i := range n {
		var sv savedVar
		if err := dec.Decode(&sv); err != nil {
			return nil, fmt.Errorf("variable %d of %d: %w", i+1, n, truncatedGob(err))
		}
		t, err := decodeTensor(dec, len(raw))
		if err != nil {
			return nil, fmt.Errorf("variable %d of %d (%q): %w", i+1, n, sv.Path, err)
		}
		vars = append(vars, loadedVar{savedVar: sv, Value: t})
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the %d variables the header announces", n)
	}
	return vars, nil
}

// gobMessages walks the count-delimited messages of a gob stream and returns
// their number, or an error if a count runs past the end of raw.
func gobMessages(raw []byte) (int, error) {
	n := 0
	for off := 0; off < len(raw); n++ {
		size, width, ok := gobUint(raw[off:])
		if !ok {
			return 0, fmt.Errorf("truncated at byte %d of %d", off, len(raw))
		}
		off += width
		if size > uint64(len(raw)-off) {
			return 0, fmt.Errorf("a message at byte %d claims %d bytes, only %d follow (file truncated or corrupt)", off-width, size, len(raw)-off)
		}
		off += int(size)
	}
	return n, nil
}

// gobUint decodes gob's unsigned integer encoding: a byte < 128 is the
// value, else its negation is the number of big-endian bytes that follow.
func gobUint(b []byte) (v uint64, width int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	k := int(-int8(b[0]))
	if k > 8 || len(b) < 1+k {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+k] {
		v = v<<8 | uint64(c)
	}
	return v, 1 + k, true
}

// decodeTensor reads one tensor as written by tensors.Tensor.GobSerialize
// (shape, then flat data), checking the shape before reading the data.
func decodeTensor(dec *gob.Decoder, fileSize int) (*tensors.Tensor, error) {
	var s shapes.Shape
	if err := dec.Decode(&s.DType); err != nil {
		return nil, fmt.Errorf("shape: %w", truncatedGob(err))
	}
	if err := dec.Decode(&s.Dimensions); err != nil {
		return nil, fmt.Errorf("shape: %w", truncatedGob(err))
	}
	var version int
	if err := dec.Decode(&version); err != nil {
		return nil, fmt.Errorf("shape: %w", truncatedGob(err))
	}
	numTuples := version
	if version == -1 { // the current format: axis names, then the number of tuples
		var hasNames bool
		if err := dec.Decode(&hasNames); err != nil {
			return nil, fmt.Errorf("shape: %w", truncatedGob(err))
		}
		if hasNames {
			if err := dec.Decode(&s.AxisNames); err != nil {
				return nil, fmt.Errorf("shape: %w", truncatedGob(err))
			}
		}
		if err := dec.Decode(&numTuples); err != nil {
			return nil, fmt.Errorf("shape: %w", truncatedGob(err))
		}
	}
	if numTuples != 0 {
		return nil, fmt.Errorf("shape: a variable cannot be a tuple (format %d, %d tuples)", version, numTuples)
	}
	goType := s.DType.GoType()
	if goType == nil || s.DType == dtypes.InvalidDType || s.DType.Size() <= 0 {
		return nil, fmt.Errorf("shape: invalid dtype %d", int(s.DType))
	}
	if s.AxisNames != nil && len(s.AxisNames) != len(s.Dimensions) {
		return nil, fmt.Errorf("shape: %d axis names for %d dimensions", len(s.AxisNames), len(s.Dimensions))
	}
	size := 1
	for _, d := range s.Dimensions {
		if d < 0 {
			return nil, fmt.Errorf("shape: negative dimension in %v", s.Dimensions)
		}
		if d > 0 && size > fileSize/d {
			return nil, fmt.Errorf("shape %v has more elements than the %d bytes of the file", s.Dimensions, fileSize)
		}
		size *= d
	}
	// gob writes every element in at least one byte (zeros compress to one).
	if size > fileSize {
		return nil, fmt.Errorf("shape %v has %d elements, more than the %d bytes of the file", s.Dimensions, size, fileSize)
	}
	flat := reflect.New(reflect.SliceOf(goType))
	if err := dec.Decode(flat.Interface()); err != nil {
		return nil, fmt.Errorf("data of shape %v: %w", s.Dimensions, truncatedGob(err))
	}
	if got := flat.Elem().Len(); got != size {
		return nil, fmt.Errorf("shape %v needs %d values, the file has %d", s.Dimensions, size, got)
	}
	t := tensors.FromShape(s)
	if err := t.MutableFlatData(func(dst any) {
		reflect.Copy(reflect.ValueOf(dst), flat.Elem())
	}); err != nil {
		return nil, fmt.Errorf("shape %v: %w", s.Dimensions, err)
	}
	return t, nil
}

// truncatedGob makes an unexpected end of the data explicit.
func truncatedGob(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("file truncated: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// maxStateFile bounds the size of a state.json that is read.
const maxStateFile = 1 << 20

// readState reads and checks the state.json of checkpoint directory dir.
func readState(dir string) (CheckpointState, error) {
	var st CheckpointState
	path := filepath.Join(dir, StateFile)
	info, err := os.Stat(path)
	if err != nil {
		return st, fmt.Errorf("train: checkpoint %s: %w", dir, err)
	}
	if !info.Mode().IsRegular() || info.Size() > maxStateFile {
		return st, fmt.Errorf("train: checkpoint %s: %s is not a checkpoint state file (not a regular file of at most %d bytes)", dir, path, maxStateFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("train: checkpoint %s: %w", dir, err)
	}
	st, err = decodeState(data)
	if err != nil {
		return st, fmt.Errorf("train: checkpoint %s: %s: %w; delete this checkpoint directory to resume from an earlier one", dir, StateFile, err)
	}
	if epoch, ok := parseCheckpointName(filepath.Base(filepath.Clean(dir))); ok && epoch != st.Epoch {
		return st, fmt.Errorf("train: checkpoint %s: %s says epoch %d but the directory is the checkpoint of epoch %d (%s edited or copied?); delete this checkpoint directory to resume from an earlier one",
			dir, StateFile, st.Epoch, epoch, StateFile)
	}
	return st, nil
}

// decodeState parses and checks the content of a state.json file.
func decodeState(data []byte) (CheckpointState, error) {
	var st CheckpointState
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&st); err != nil {
		return st, err
	}
	if dec.More() {
		return st, errors.New("data after the JSON object")
	}
	if st.Format != checkpointFormat {
		return st, fmt.Errorf("format %d, this version reads %d", st.Format, checkpointFormat)
	}
	if st.Epoch < 0 {
		return st, fmt.Errorf("negative epoch %d", st.Epoch)
	}
	if len(st.Target) == 0 {
		return st, errors.New("no targets")
	}
	for _, c := range st.Target {
		if c < 0 || c > 9 {
			return st, fmt.Errorf("target class %d out of range 0..9", c)
		}
	}
	if st.Conditional != "" && !slices.Contains(models.Conditionals, st.Conditional) {
		return st, fmt.Errorf("conditional %q is none of %s, %s, %s", st.Conditional, models.CondNone, models.CondKnown, models.CondUnknown)
	}
	if err := st.Model.Validate(); err != nil {
		return st, err
	}
	if st.Model.NumConditions > len(st.Target) && st.Model.NumConditions > 1 {
		return st, fmt.Errorf("model has %d conditions for %d targets", st.Model.NumConditions, len(st.Target))
	}
	return st, nil
}

// checkMemoryShape checks that the memory variable loaded from checkpoint
// dir has the shape its state.json describes ([memories, items, C]); a
// mismatch (an edited state.json) would otherwise fail deep inside graph
// building, or panic in code that trusts the shape.
func checkMemoryShape(dir string, st CheckpointState, store *model.Store) error {
	if st.Model.Kind != models.KindMemAE {
		return nil
	}
	v := store.GetVariable(models.DefaultMemoryPath)
	if v == nil {
		return fmt.Errorf("train: checkpoint %s: %s holds no memory variable %s, but %s describes a %s model",
			dir, VariablesFile, models.DefaultMemoryPath, StateFile, st.Model.Kind)
	}
	c := -1
	for _, a := range models.Archs() {
		if a.Name == st.Model.Arch {
			c = a.LatentC
		}
	}
	want := []int{max(st.Model.NumConditions, 1), st.Model.MemorySize, c}
	if got := v.Shape(); got.DType != dtypes.Float32 || !slices.Equal(got.Dimensions, want) {
		return fmt.Errorf("train: checkpoint %s: %s describes memories of shape %v, but %s holds %s; the files do not belong together (delete this checkpoint directory to resume from an earlier one)",
			dir, StateFile, want, VariablesFile, got)
	}
	return nil
}
