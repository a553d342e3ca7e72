package config

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

//go:embed defaults
var defaultsFS embed.FS

// Experiment is one fully resolved run configuration (all target groups of one
// parameter combination and seed). Its YAML form is the run's config.yaml.
type Experiment struct {
	Model       ModelConfig        `yaml:"model"`
	Datamodule  DataConfig         `yaml:"datamodule"`
	Trainer     TrainerConfig      `yaml:"trainer"`
	Conditional models.Conditional `yaml:"conditional"` // "none" | "known" | "unknown"
	Seed        int64              `yaml:"seed"`
	// FromCheckpoint is a checkpoint directory or a run directory (its last
	// checkpoint) to start from; "" starts from a fresh initialisation.
	FromCheckpoint              string `yaml:"from_checkpoint"`
	SaveCheckpointsEveryNEpochs int    `yaml:"save_checkpoints_every_n_epochs"`
	Name                        string `yaml:"name"`        // experiment name (results directory)
	ResultsDir                  string `yaml:"results_dir"` // root of the results tree, default "results"

	// Params are the parameters that distinguish this configuration from the
	// others of the same experiment (overrides and sweep values, without seed
	// and targets); they name its results directory.
	Params []results.Param `yaml:"-"`
	// Budget is the budget overlay the configuration was composed with
	// (budget=<name>: quick, cpu, full; "" when none was given). It is not a
	// key of the configuration and is not saved with it.
	Budget string `yaml:"-"`
}

// ModelConfig is the "model" group.
type ModelConfig struct {
	Name              string        `yaml:"name"` // "memae" | "ae" | "cond-ae" | "multi-ae"
	Arch              string        `yaml:"arch"` // "mnist" | "mnist-flat" | "mnist-flat2" | "cifar" | "cifar-flat"
	MemorySize        int           `yaml:"memory_size"`
	ShrinkThreshold   float64       `yaml:"shrink_threshold"`
	CosineSimilarity  bool          `yaml:"cosine_similarity"`
	EntropyLoss       string        `yaml:"entropy_loss"` // "thesis" | "paper"
	EntropyLossWeight float64       `yaml:"entropy_loss_weight"`
	LearningRate      float64       `yaml:"learning_rate"`
	ModelTransformers []Transformer `yaml:"model_transformers"`
	SelectionMetric   string        `yaml:"selection_metric"` // "sum" | "max" | "recon"
}

// DataConfig is the "datamodule" group.
type DataConfig struct {
	Name string `yaml:"name"` // "mnist" | "fashion-mnist" | "cifar"
	// Targets are the normal class groups. A flat list [0,1,2] means one run
	// per class, or, in a conditional experiment, one run conditioned on all
	// of them; a nested list [[0,1],[4,5]] gives one run per inner list.
	// After Parse, Targets holds the groups actually run (see TargetGroups).
	Targets         Targets `yaml:"targets"`
	NumTrainSamples int     `yaml:"num_train_samples"` // 0 = all; k > 0 = few-shot (first k after a seeded shuffle)
	BatchSize       int     `yaml:"batch_size"`
	// Shuffle reshuffles the training images every epoch (seeded). The thesis's
	// data loader does not shuffle, so the default keeps the dataset's order.
	Shuffle         bool    `yaml:"shuffle"`
	TestBatchSize   int     `yaml:"test_batch_size"`
	AnomalyFraction float64 `yaml:"anomaly_fraction"` // fraction of anomalies in each test set (0.3)
	DataDir         string  `yaml:"data_dir"`
}

// TrainerConfig is the "trainer" group.
type TrainerConfig struct {
	MaxEpochs int    `yaml:"max_epochs"`
	Backend   string `yaml:"backend"` // "" = automatic (see package backend)
}

// Targets is a list of target groups; it decodes both [0,1,2] (→ [[0],[1],[2]])
// and [[0,1],[4,5]] (and mixtures such as [3,[1,7]]).
type Targets [][]int

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Targets) UnmarshalYAML(n *yaml.Node) error {
	var groups [][]int
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := targetClass(n)
		if err != nil {
			return err
		}
		groups = [][]int{{v}}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			switch item.Kind {
			case yaml.ScalarNode:
				v, err := targetClass(item)
				if err != nil {
					return err
				}
				groups = append(groups, []int{v})
			case yaml.SequenceNode:
				g := []int{}
				for _, c := range item.Content {
					v, err := targetClass(c)
					if err != nil {
						return err
					}
					g = append(g, v)
				}
				groups = append(groups, g)
			default:
				return fmt.Errorf("line %d: invalid target: write a class, a list of classes or a list of lists, e.g. [0,1] or [[0,1],[4,5]]", item.Line)
			}
		}
	default:
		return fmt.Errorf("line %d: targets must be a list", n.Line)
	}
	*t = groups
	return nil
}

// targetClass reads one class number of datamodule.targets: a YAML integer
// (1.5 or "1" are rejected rather than truncated or guessed).
func targetClass(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, fmt.Errorf("line %d: target %q is not a class number; write whole numbers 0..%d, e.g. [0,1] or [[0,1],[4,5]]", n.Line, n.Value, numClasses-1)
	}
	var v int
	if err := n.Decode(&v); err != nil {
		return 0, fmt.Errorf("line %d: target %q is not a class number 0..%d", n.Line, n.Value, numClasses-1)
	}
	return v, nil
}

// MarshalYAML writes the groups in flow style ([[0, 1], [4, 5]]).
func (t Targets) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, g := range t {
		gn := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, c := range g {
			gn.Content = append(gn.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(c)})
		}
		n.Content = append(n.Content, gn)
	}
	return n, nil
}

// TargetGroups returns the target groups run by the experiment, one run each.
func (e Experiment) TargetGroups() [][]int { return e.Datamodule.Targets }

// NumConditions is the number of conditions of a run on targets: the number
// of target classes of a conditional experiment, 1 otherwise.
func (e Experiment) NumConditions(targets []int) int {
	if !e.Conditional.IsConditional() {
		return 1
	}
	return len(targets)
}

// ModelConfig converts the model group into the typed configuration of package
// models, for a model with numConditions conditions (memories, one-hot size
// or number of AEs).
func (e Experiment) ModelConfig(numConditions int) models.Config {
	m := e.Model
	return models.Config{
		Arch:              m.Arch,
		Kind:              m.Name,
		MemorySize:        m.MemorySize,
		ShrinkThreshold:   m.ShrinkThreshold,
		CosineSimilarity:  m.CosineSimilarity,
		EntropyLoss:       m.EntropyLoss,
		EntropyLossWeight: m.EntropyLossWeight,
		NumConditions:     max(numConditions, 1),
		SelectionMetric:   m.SelectionMetric,
	}
}

// ParamsSlug is the name of the experiment's parameters directory.
func (e Experiment) ParamsSlug() string { return results.ParamsSlug(e.Params) }

// RunDir is the results directory of the run on targets:
// <results_dir>/<name>/<params slug>/seed_<seed>/target_<targets>.
func (e Experiment) RunDir(targets []int) string {
	return results.RunDir(e.ResultsDir, e.Name, e.ParamsSlug(), e.Seed, targets)
}

// HasTransformer reports whether t is listed in model.model_transformers.
func (e Experiment) HasTransformer(t Transformer) bool {
	return slices.Contains(e.Model.ModelTransformers, t)
}

// YAML is the resolved configuration as written to a run's config.yaml.
func (e Experiment) YAML() ([]byte, error) {
	out, err := yaml.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("config: encoding experiment %s: %w", e.Name, err)
	}
	header := "# Resolved configuration of a C-MemAE run.\n"
	if len(e.Params) > 0 {
		header += "# params: " + e.ParamsSlug() + "\n"
	}
	return append([]byte(header), out...), nil
}

// String is the one-line summary used by the runner.
func (e Experiment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s seed=%d model=%s arch=%s datamodule=%s", e.Name, e.ParamsSlug(), e.Seed,
		e.Model.Name, e.Model.Arch, e.Datamodule.Name)
	if e.Conditional != models.CondNone {
		fmt.Fprintf(&b, " conditional=%s", e.Conditional)
	}
	return b.String()
}

// TrainsLike reports whether runs of e and o on the same targets train the
// same model to the same weights: the two configurations differ at most in
// how a run is evaluated, which is whether a conditional model is told the
// condition (conditional known or unknown; training always uses the label),
// the self-selection metric (model.selection_metric), and the names of the
// results (experiment name, params, results_dir). Such runs can share one
// training (see train.Sibling).
func (e Experiment) TrainsLike(o Experiment) bool {
	k := e.TrainingKey()
	return k != "" && k == o.TrainingKey()
}

// TrainingKey is a string that two configurations share exactly when they
// train alike (TrainsLike): their YAML without the values that only decide
// how a run is evaluated or named. It is "" for a configuration that cannot be
// encoded, which trains like nothing.
func (e Experiment) TrainingKey() string {
	b, err := e.trainingOnly().YAML()
	if err != nil {
		return ""
	}
	return string(b)
}

// trainingOnly is e without the values that only decide how a run is
// evaluated or named (see TrainsLike): a conditional model's runs are all
// "known", as they train.
func (e Experiment) trainingOnly() Experiment {
	if e.Conditional.IsConditional() {
		e.Conditional = models.CondKnown
	}
	e.Model.SelectionMetric = ""
	e.Name, e.ResultsDir, e.Params, e.Budget = "", "", nil, ""
	e.Datamodule.Targets = nil
	return e
}
