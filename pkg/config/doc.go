// Package config is the Hydra-like configuration of the C-MemAE experiments:
// the thesis ran `python main.py model=memae datamodule=mnist seed=2`, and
// Parse accepts exactly those arguments.
//
// A configuration is composed, in order, from
//
//  1. the top-level defaults (defaults/config.yaml: seed 1, 100 epochs, …),
//  2. the selected config groups: model=memae|ae|cond-ae|multi-ae and
//     datamodule=mnist|fashion-mnist|cifar (defaults/<group>/<name>.yaml; the
//     datamodule also picks the default architecture and memory size:
//     mnist-flat with 10 items, cifar-flat with 125),
//  3. an experiment file, if experiment=<name> is given (one of the thesis's
//     experiments, see Parser.Experiments, or a path to a YAML file),
//  4. key=value overrides with the thesis's key names, e.g.
//     trainer.max_epochs=10 model.memory_size=50 datamodule.targets=[[0,1],[4,5]].
//
// A value with top-level commas is a sweep: seed=1,2,3 model.memory_size=10,50
// yields the cartesian product, six Experiments. Experiment files may define
// sweeps too (a "sweep:" mapping of key to values, or a list of such mappings
// whose products are joined). Every combination gets its own parameters
// directory (see results.ParamsSlug and Experiment.RunDir).
//
// Unknown keys, group names and enumerated values are errors that name the key
// and suggest the nearest valid spelling; invalid values (negative epochs,
// λ < 0, an architecture that does not fit the dataset, …) are rejected by
// Validate, which Parse calls, so that mistakes fail before any training.
package config
