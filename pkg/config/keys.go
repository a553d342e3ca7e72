package config

import (
	"reflect"
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/models"
)

// Key describes one configuration key.
type Key struct {
	Name string // dotted key, e.g. "model.memory_size"
	Doc  string // one-line description
}

// Special keys that are not fields of Experiment.
const (
	GroupModel      = "model"       // model=memae|ae|cond-ae|multi-ae
	GroupDatamodule = "datamodule"  // datamodule=mnist|fashion-mnist|cifar
	KeyExperiment   = "experiment"  // experiment=<name or file.yaml>
	KeyResultsDir   = "results_dir" // results_dir=<root of the results tree>
)

var keyDocs = map[string]string{
	"model.name":                      "model kind: memae | ae | cond-ae | multi-ae (set by model=…)",
	"model.arch":                      "architecture: mnist | mnist-flat | mnist-flat2 | cifar | cifar-flat",
	"model.memory_size":               "memory items N per memory (10 MNIST, 125 CIFAR)",
	"model.shrink_threshold":          "hard-shrinkage threshold λ (0 = no shrinkage)",
	"model.cosine_similarity":         "cosine addressing (true) or dot product (false)",
	"model.entropy_loss":              "entropy loss variant: thesis | paper",
	"model.entropy_loss_weight":       "weight of the entropy loss",
	"model.learning_rate":             "Adam learning rate",
	"model.model_transformers":        "few-shot memory initialisations, applied in order: " + strings.Join(names(Transformers), ", "),
	"model.selection_metric":          "self-selection metric for conditional=unknown: sum | max | recon",
	"datamodule.name":                 "dataset: mnist | fashion-mnist | cifar (set by datamodule=…)",
	"datamodule.targets":              "normal classes: [0,1,2] one run each, [[0,1],[4,5]] one (conditional) run per pair",
	"datamodule.num_train_samples":    "training images per run (0 = all; k > 0 few-shot)",
	"datamodule.batch_size":           "training batch size",
	"datamodule.shuffle":              "reshuffle the training images every epoch (the thesis does not: false)",
	"datamodule.test_batch_size":      "evaluation batch size",
	"datamodule.anomaly_fraction":     "fraction of anomalies in each test set",
	"datamodule.data_dir":             "dataset directory (\"\" = $CMEMAE_DATA_DIR or the default locations)",
	"trainer.max_epochs":              "number of training epochs",
	"trainer.backend":                 "GoMLX backend (\"\" = $GOMLX_BACKEND, else XLA if usable, else go)",
	"conditional":                     "conditional memory: none | known | unknown (self-selection)",
	"seed":                            "random seed (data subsets, shuffling, initialisation)",
	"from_checkpoint":                 "checkpoint or run directory to start from (transfer, few-shot); ${results_dir}, ${seed}, ${name} are replaced",
	"save_checkpoints_every_n_epochs": "checkpoint interval in epochs (plus init before training and the last epoch)",
	"name":                            "experiment name: results directory below results_dir",
	"results_dir":                     "root directory of the results tree",
}

// leafKeys are the dotted keys of Experiment's fields, in declaration order.
var leafKeys = collectKeys(reflect.TypeFor[Experiment](), "")

func collectKeys(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collectKeys(f.Type, prefix+tag+".")...)
			continue
		}
		out = append(out, prefix+tag)
	}
	return out
}

// Keys lists every key=value key, the groups and experiment first.
func Keys() []Key {
	out := []Key{
		{KeyExperiment, "a thesis experiment (see the list below) or a YAML file"},
		{GroupModel, "config group: " + strings.Join(Groups()[GroupModel], " | ")},
		{GroupDatamodule, "config group: " + strings.Join(Groups()[GroupDatamodule], " | ")},
	}
	for _, k := range leafKeys {
		out = append(out, Key{Name: k, Doc: keyDocs[k]})
	}
	return out
}

// Groups returns the config groups and their options.
func Groups() map[string][]string {
	return map[string][]string{
		GroupModel:      slices.Clone(models.Kinds),
		GroupDatamodule: data.Names(),
	}
}

// allKeyNames is every name accepted left of "=".
func allKeyNames() []string {
	return append([]string{KeyExperiment, GroupModel, GroupDatamodule}, leafKeys...)
}

// keyIndex orders keys canonically (for params slugs).
func keyIndex(key string) int {
	return slices.Index(allKeyNames(), key)
}

// isLeafKey reports whether key names a field of Experiment.
func isLeafKey(key string) bool { return slices.Contains(leafKeys, key) }

// isSectionKey reports whether key is a mapping in YAML files (model, datamodule, trainer).
func isSectionKey(key string) bool {
	for _, k := range leafKeys {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

// fieldByKey returns the addressable field of e named by a dotted key.
func fieldByKey(e *Experiment, key string) (reflect.Value, bool) {
	v := reflect.ValueOf(e).Elem()
	for part := range strings.SplitSeq(key, ".") {
		found := false
		for i := range v.NumField() {
			tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
			if tag == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}
