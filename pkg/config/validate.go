package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/memory"
	"github.com/cmemae/cmemae/pkg/models"
)

// numClasses is the number of classes of every supported dataset.
const numClasses = 10

// Validate reports every invalid value of e, each naming its key; unknown
// names suggest the nearest valid one. Parse calls it, so invalid
// configurations fail before any training. It is the one place of the
// configuration's rules: train.Run checks its experiment with ValidateRun.
func (e *Experiment) Validate() error { return e.validate(false) }

// ValidateRun checks e for one run on targets (one target group) whose run
// directory the caller chooses (train.Run): Validate's rules with
// datamodule.targets = [targets], except name and results_dir, which only
// place the run directory.
func (e Experiment) ValidateRun(targets []int) error {
	e.Datamodule.Targets = nil
	if len(targets) > 0 {
		e.Datamodule.Targets = Targets{slices.Clone(targets)}
	}
	return e.validate(true)
}

// validate checks e; run leaves out name and results_dir (see ValidateRun).
func (e *Experiment) validate(run bool) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	enum := func(key, value string, valid []string) bool {
		if !slices.Contains(valid, value) {
			errs = append(errs, unknownError("value for "+key+":", value, valid, true))
			return false
		}
		return true
	}
	m, d := e.Model, e.Datamodule
	if err := checkControlChars(e); err != nil {
		errs = append(errs, err)
	}

	// The model's rules are package models' (models.Config.Problems),
	// reported here with their keys.
	for _, p := range e.ModelConfig(1).Problems() {
		switch {
		case p.Valid != nil:
			errs = append(errs, unknownError("value for "+p.Key+":", p.Value, p.Valid, true))
		case p.Key == "":
			errs = append(errs, fmt.Errorf("config: model: %w", p))
		default:
			bad(p.Key, "%s", p.Problem)
		}
	}
	if m.Name == models.KindMemAE && m.EntropyLoss == "" {
		// models reads "" as the default; a configuration names it.
		enum("model.entropy_loss", m.EntropyLoss, names(memory.EntropyVariants))
	}
	archOK := slices.Contains(models.ArchNames(), m.Arch)
	dataOK := enum("datamodule.name", d.Name, data.Names())
	if archOK && dataOK {
		wantPrefix := "mnist"
		if d.Name == "cifar" {
			wantPrefix = "cifar"
		}
		if !strings.HasPrefix(m.Arch, wantPrefix) {
			var fits []string
			for _, a := range models.ArchNames() {
				if strings.HasPrefix(a, wantPrefix) {
					fits = append(fits, a)
				}
			}
			bad("model.arch", "architecture %q does not fit dataset %s (use one of %s)", m.Arch, d.Name, strings.Join(fits, ", "))
		}
	}
	condOK := enum("conditional", string(e.Conditional), names(models.Conditionals))
	if !(m.LearningRate > 0) || math.IsInf(m.LearningRate, 0) {
		bad("model.learning_rate", "must be > 0, got %g", m.LearningRate)
	}
	if condOK {
		switch {
		case e.Conditional == models.CondNone && (m.Name == models.KindCondAE || m.Name == models.KindMultiAE):
			bad("conditional", "model %s needs conditional=known or conditional=unknown", m.Name)
		case e.Conditional != models.CondNone && m.Name == models.KindAE:
			bad("conditional", "model ae has no condition; use model=memae (C-MemAE), cond-ae or multi-ae")
		}
	}

	if e.Trainer.MaxEpochs < 1 {
		bad("trainer.max_epochs", "must be >= 1, got %d", e.Trainer.MaxEpochs)
	}
	if d.BatchSize < 1 {
		bad("datamodule.batch_size", "must be >= 1, got %d", d.BatchSize)
	}
	if d.TestBatchSize < 1 {
		bad("datamodule.test_batch_size", "must be >= 1, got %d", d.TestBatchSize)
	}
	if d.NumTrainSamples < 0 {
		bad("datamodule.num_train_samples", "must be >= 0 (0 = all), got %d", d.NumTrainSamples)
	}
	if !(d.AnomalyFraction > 0 && d.AnomalyFraction < 1) {
		bad("datamodule.anomaly_fraction", "must be in (0, 1), got %g", d.AnomalyFraction)
	}
	if e.SaveCheckpointsEveryNEpochs < 1 {
		bad("save_checkpoints_every_n_epochs", "must be >= 1, got %d", e.SaveCheckpointsEveryNEpochs)
	}
	if strings.Contains(e.FromCheckpoint, "${") {
		bad("from_checkpoint", "unknown variable in %q (valid: ${results_dir}, ${seed}, ${name})", e.FromCheckpoint)
	}
	if !run && (e.Name == "" || strings.ContainsAny(e.Name, `/\`) || e.Name == "." || e.Name == "..") {
		bad("name", "must be a non-empty directory name, got %q", e.Name)
	}
	if !run && e.ResultsDir == "" {
		bad("results_dir", "must not be empty")
	}

	if len(d.Targets) == 0 {
		bad("datamodule.targets", "no target classes")
	}
	for _, g := range d.Targets {
		if len(g) == 0 {
			bad("datamodule.targets", "empty target group")
		}
		for i, c := range g {
			if c < 0 || c >= numClasses {
				bad("datamodule.targets", "class %d out of range 0..%d", c, numClasses-1)
			}
			if slices.Contains(g[:i], c) {
				bad("datamodule.targets", "class %d twice in group %v", c, g)
			}
		}
		if condOK && e.Conditional != models.CondNone && len(g) < 2 {
			bad("datamodule.targets", "conditional=%s needs groups of at least two classes, e.g. [[0,1],[4,5]]; got %v", e.Conditional, g)
		}
	}

	for _, t := range m.ModelTransformers {
		if !enum("model.model_transformers", string(t), names(Transformers)) {
			continue
		}
		if t.NeedsCheckpoint() && e.FromCheckpoint == "" {
			bad("from_checkpoint", "transformer %s needs from_checkpoint=<checkpoint or run directory>", t)
		}
		if t.NeedsSamples() && d.NumTrainSamples < 1 {
			bad("datamodule.num_train_samples", "transformer %s needs num_train_samples = k > 0 (the memory gets k items)", t)
		}
		if t.NeedsMemory() && m.Name != models.KindMemAE {
			bad("model.model_transformers", "transformer %s needs a memory model (model=memae), got model=%s", t, m.Name)
		}
	}

	// A key given (on the command line or in a sweep: e.Params) for a model
	// that does not read it would only make a second results directory of the
	// same runs (Hydra refuses such keys too).
	for _, p := range e.Params {
		switch {
		case slices.Contains(memoryKeys, p.Key) && m.Name != models.KindMemAE:
			bad(p.Key, "model %s has no memory, so %s=%s would change nothing; it is a key of model=memae (remove it, or set model=memae)",
				m.Name, p.Key, p.Value)
		case p.Key == "model.selection_metric" && (m.Name == models.KindCondAE || m.Name == models.KindMultiAE):
			bad(p.Key, "model %s self-selects by its reconstruction error only, so %s=%s would change nothing; it is a key of C-MemAE (model=memae conditional=unknown)",
				m.Name, p.Key, p.Value)
		case p.Key == "model.selection_metric" && m.Name == models.KindAE:
			bad(p.Key, "model ae has no memories to select from; %s is a key of C-MemAE (model=memae conditional=unknown)", p.Key)
		case p.Key == "model.selection_metric" && condOK && e.Conditional != models.CondUnknown:
			bad(p.Key, "only conditional=unknown self-selects, so %s=%s would change nothing with conditional=%s (remove it, or set conditional=unknown)",
				p.Key, p.Value, e.Conditional)
		}
	}

	for i, g := range d.Targets {
		for _, prev := range d.Targets[:i] {
			if slices.Equal(prev, g) {
				bad("datamodule.targets", "target group %v is listed twice (it would run the same run twice); remove the duplicate", g)
			}
		}
	}

	if len(errs) == 0 {
		if err := e.checkFootprint(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// memoryKeys are the keys only a memory model (model=memae) reads.
var memoryKeys = []string{"model.memory_size", "model.shrink_threshold", "model.cosine_similarity", "model.entropy_loss", "model.entropy_loss_weight"}

// names are the text forms of a list of named values.
func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

// memoryLimit is the memory a run may use at most: the machine's RAM, or
// 1 TiB where it is unknown. A variable for tests.
var memoryLimit = func() float64 {
	if m := physicalMemory(); m > 0 {
		return m
	}
	return 1 << 40
}

// checkFootprint refuses a memory size whose memory units alone cannot fit
// in the machine's memory, before anything is allocated (a huge
// model.memory_size would otherwise end in an out-of-memory crash).
func (e *Experiment) checkFootprint() error {
	limit := memoryLimit()
	batch := max(e.Datamodule.BatchSize, e.Datamodule.TestBatchSize)
	for _, g := range e.Datamodule.Targets {
		mc := e.ModelConfig(e.NumConditions(g))
		need := mc.MemoryFootprint(batch)
		if need > limit {
			return fmt.Errorf("config: model.memory_size: %d items need about %s for the memory (%d × %d items with gradients and Adam state, addressing a batch of %d), more than the %s of this machine; use a smaller model.memory_size (the thesis uses 10 for MNIST, 125 for CIFAR-10)",
				e.Model.MemorySize, humanBytes(need), mc.NumConditions, e.Model.MemorySize, batch, humanBytes(limit))
		}
	}
	return nil
}

// humanBytes formats a byte count as "12.3 GiB".
func humanBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
