package train

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// Checkpoint file and directory names.
const (
	// InitCheckpoint is the name of the checkpoint written before training.
	InitCheckpoint = "init"
	// VariablesFile holds every variable of the model.Store.
	VariablesFile = "variables.bin"
	// StateFile holds the CheckpointState as JSON.
	StateFile = "state.json"

	checkpointFormat = 1
	tmpPrefix        = ".tmp-"
	oldPrefix        = ".old-"
)

// CheckpointName is the directory name of the checkpoint after epoch:
// "init" for 0, "epoch_0005" for 5.
func CheckpointName(epoch int) string {
	if epoch == 0 {
		return InitCheckpoint
	}
	return fmt.Sprintf("epoch_%04d", epoch)
}

// CheckpointState is the metadata of a checkpoint (state.json).
type CheckpointState struct {
	Format int   `json:"format"`
	Epoch  int   `json:"epoch"` // 0 = init (before training)
	Seed   int64 `json:"seed"`
	Target []int `json:"targets"`
	// Model is the effective model configuration: MemorySize and
	// NumConditions after the few-shot transformers.
	Model models.Config `json:"model"`
	// Conditional is "none", "known" or "unknown".
	Conditional models.Conditional `json:"conditional"`
	// Frozen is set by the freeze transformer: the run makes no weight changes.
	Frozen bool `json:"frozen,omitempty"`
	// TrainLoss of the epoch that produced the checkpoint (NaN/absent for init).
	TrainLoss *float64 `json:"train_loss,omitempty"`
	Time      string   `json:"time"`
	// VariablesSHA256 is the hex SHA-256 of variables.bin, checked when the
	// checkpoint is loaded: a flipped bit in the weights is an error, not a
	// silently different model. Checkpoints written before it have none.
	VariablesSHA256 string `json:"variables_sha256,omitempty"`
}

// CheckpointInfo names one checkpoint of a run.
type CheckpointInfo struct {
	Name  string // "init", "epoch_0005"
	Dir   string // its directory
	Epoch int
}

// ListCheckpoints lists the complete checkpoints of a run directory, by
// epoch (init first). Temporary directories of interrupted writes are ignored.
func ListCheckpoints(runDir string) ([]CheckpointInfo, error) {
	dir := filepath.Join(runDir, results.CheckpointsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("train: listing checkpoints: %w", err)
	}
	var out []CheckpointInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		epoch, ok := parseCheckpointName(e.Name())
		if !ok {
			continue
		}
		cdir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(cdir, StateFile)); err != nil {
			continue
		}
		out = append(out, CheckpointInfo{Name: e.Name(), Dir: cdir, Epoch: epoch})
	}
	slices.SortFunc(out, func(a, b CheckpointInfo) int { return a.Epoch - b.Epoch })
	return out, nil
}

func parseCheckpointName(name string) (int, bool) {
	if name == InitCheckpoint {
		return 0, true
	}
	s, ok := strings.CutPrefix(name, "epoch_")
	if !ok {
		return 0, false
	}
	e, err := strconv.Atoi(s)
	if err != nil || e < 0 {
		return 0, false
	}
	return e, true
}

// ResolveCheckpoint turns path — a checkpoint directory, or a run directory
// (its latest checkpoint, see LatestCheckpoint) — into a checkpoint directory.
func ResolveCheckpoint(path string) (string, error) {
	if _, err := os.Stat(filepath.Join(path, StateFile)); err == nil {
		return path, nil
	}
	latest, ok, err := LatestCheckpoint(path)
	if err != nil {
		return "", err
	}
	if !ok {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("train: checkpoint %q: %w", path, err)
		}
		if _, err := os.Stat(filepath.Join(path, results.MetricsFile)); err == nil {
			return "", fmt.Errorf("train: run directory %q holds no checkpoint, only its metrics (exported without -checkpoints, or its checkpoints were deleted): a model cannot be loaded from it; train the run again (move its %s away first) or export it with -checkpoints=last",
				path, results.MetricsFile)
		}
		return "", fmt.Errorf("train: %q is neither a checkpoint directory (with %s) nor a run directory with checkpoints", path, StateFile)
	}
	return latest.Dir, nil
}

// savedVar is the gob header of one variable in variables.bin; the tensor
// follows, encoded by tensors.Tensor.GobSerialize.
type savedVar struct {
	Path      string
	Trainable bool
}

// errInjected is returned by failpoints in tests.
var errInjected = errors.New("injected failure")

// failpoint, when set (tests only), is called at named points of a
// checkpoint write and may return an error to simulate a crash or a full disk.
var failpoint func(stage string) error

func fail(stage string) error {
	if failpoint != nil {
		return failpoint(stage)
	}
	return nil
}

// SaveCheckpoint writes every variable of store and state into
// <runDir>/checkpoints/<CheckpointName(state.Epoch)> atomically: the files go
// into a hidden temporary directory, are fsynced, and the directory is renamed
// into place (replacing an older checkpoint of the same name only once the new
// one is complete). On error nothing but the previous checkpoint remains.
func SaveCheckpoint(runDir string, store *model.Store, state CheckpointState) error {
	return saveCheckpointAs(runDir, CheckpointName(state.Epoch), store, state)
}

// saveCheckpointAs is SaveCheckpoint into the checkpoint directory name.
func saveCheckpointAs(runDir, name string, store *model.Store, state CheckpointState) (err error) {
	parent := filepath.Join(runDir, results.CheckpointsDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(parent, tmpPrefix+name+"-")
	if err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", name, err)
	}
	// MkdirTemp creates 0700; checkpoints are as readable as the rest of the results.
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("train: checkpoint %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
			err = fmt.Errorf("train: writing checkpoint %s: %w", name, err)
		}
	}()
	state.Format = checkpointFormat
	if state.Time == "" {
		state.Time = time.Now().UTC().Format(time.RFC3339)
	}
	sum := sha256.New()
	if err := writeFileSynced(filepath.Join(tmp, VariablesFile), func(w io.Writer) error {
		return writeVariables(io.MultiWriter(w, sum), store)
	}); err != nil {
		return err
	}
	state.VariablesSHA256 = hex.EncodeToString(sum.Sum(nil))
	if err := fail("variables-written"); err != nil {
		return err
	}
	if err := writeFileSynced(filepath.Join(tmp, StateFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(state)
	}); err != nil {
		return err
	}
	atomicfile.SyncDir(tmp)
	if err := fail("before-rename"); err != nil {
		return err
	}
	final := filepath.Join(parent, name)
	var old string
	if _, statErr := os.Stat(final); statErr == nil {
		old = filepath.Join(parent, fmt.Sprintf("%s%s-%d", oldPrefix, name, time.Now().UnixNano()))
		if err := os.Rename(final, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			_ = os.Rename(old, final)
		}
		return err
	}
	atomicfile.SyncDir(parent)
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// cleanCheckpointLeftovers removes temporary directories of interrupted
// checkpoint writes, and restores a checkpoint whose replacement was
// interrupted between the two renames.
func cleanCheckpointLeftovers(runDir string) {
	parent := filepath.Join(runDir, results.CheckpointsDir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, tmpPrefix):
			_ = os.RemoveAll(filepath.Join(parent, n))
		case strings.HasPrefix(n, oldPrefix):
			orig := strings.TrimPrefix(n, oldPrefix)
			if i := strings.LastIndexByte(orig, '-'); i > 0 {
				orig = orig[:i]
			}
			if _, err := os.Stat(filepath.Join(parent, orig)); errors.Is(err, os.ErrNotExist) {
				_ = os.Rename(filepath.Join(parent, n), filepath.Join(parent, orig))
			} else {
				_ = os.RemoveAll(filepath.Join(parent, n))
			}
		}
	}
}

func writeFileSynced(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeVariables(w io.Writer, store *model.Store) error {
	enc := gob.NewEncoder(w)
	var vars []*model.Variable
	for v := range store.IterVariables() {
		vars = append(vars, v)
	}
	if err := enc.Encode(len(vars)); err != nil {
		return err
	}
	for _, v := range vars {
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		if err := enc.Encode(savedVar{Path: v.Path(), Trainable: v.Trainable}); err != nil {
			return err
		}
		if err := t.GobSerialize(enc); err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
	}
	return nil
}

// loadedVar is one variable read from a checkpoint.
type loadedVar struct {
	savedVar
	Value *tensors.Tensor
}

// Checkpoint is a checkpoint loaded into memory: the model it was written
// for and a store with all its variables.
type Checkpoint struct {
	Dir   string
	State CheckpointState
	Model *models.Model
	Store *model.Store
}

// LoadCheckpoint reads the checkpoint at path (a checkpoint directory, or a
// run directory for its latest checkpoint) into a new model.Store. Use it to
// analyse a trained model (memories, reconstructions) or as the source of a
// transfer.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	dir, err := ResolveCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return loadCheckpointDir(dir)
}

// loadCheckpointDir reads the checkpoint directory dir: its state, the model
// the state describes, and its variables (checksum, then shapes checked
// against the state).
func loadCheckpointDir(dir string) (*Checkpoint, error) {
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	m, err := models.New(st.Model)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", dir, err)
	}
	store := model.NewStore()
	vars, err := readVariables(filepath.Join(dir, VariablesFile), st.VariablesSHA256)
	if err != nil {
		return nil, fmt.Errorf("train: loading checkpoint: %w", err)
	}
	for _, lv := range vars {
		if err := setVariable(store, lv.Path, lv.Value, lv.Trainable); err != nil {
			return nil, fmt.Errorf("train: loading checkpoint %s: %w", dir, err)
		}
	}
	if err := checkMemoryShape(dir, st, store); err != nil {
		return nil, err
	}
	return &Checkpoint{Dir: dir, State: st, Model: m, Store: store}, nil
}

// setVariable creates or overwrites the variable at path with value.
func setVariable(store *model.Store, path string, value *tensors.Tensor, trainable bool) error {
	if v := store.GetVariable(path); v != nil {
		if !v.Shape().Equal(value.Shape()) {
			if err := store.DeleteVariable(path); err != nil {
				return err
			}
		} else {
			if err := v.SetValue(value); err != nil {
				return fmt.Errorf("variable %s: %w", path, err)
			}
			v.SetTrainable(trainable)
			return nil
		}
	}
	v, err := store.CreateVariable(path, value)
	if err != nil {
		return fmt.Errorf("variable %s: %w", path, err)
	}
	v.SetTrainable(trainable)
	return nil
}
