// Package config is the Hydra-like configuration of the C-MemAE experiments:
// the thesis ran `python main.py model=memae datamodule=mnist seed=2`, and
// Parse accepts exactly those arguments.
//
// A configuration is composed, in order, from
//
//  1. the top-level defaults (defaults/config.yaml: seed 1, 100 epochs,
//     checkpoints every 5, learning rate 1e-4, batch sizes 64 and 500, …),
//  2. the selected config groups: model=memae|ae|cond-ae|multi-ae and
//     datamodule=mnist|fashion-mnist|cifar (defaults/<group>/<name>.yaml; the
//     datamodule also picks the default architecture, mnist-flat or
//     cifar-flat), then the defaults defined once in the packages below:
//     the architecture's memory size and, for memae, the memory's
//     hyper-parameters from models.DefaultConfig (10 items on MNIST, 125 on
//     CIFAR-10, λ 0.0025, cosine, entropy loss "thesis" weighted 0.0002,
//     self-selection "sum"), the anomaly fraction data.DefaultAnomalyFraction,
//  3. an experiment file, if experiment=<name> is given (one of the thesis's
//     experiments, see Parser.Experiments, or a path to a YAML file),
//  4. key=value overrides with the thesis's key names, e.g.
//     trainer.max_epochs=10 model.memory_size=50 datamodule.targets=[[0,1],[4,5]].
//
// A value with top-level commas is a sweep: seed=1,2,3 model.memory_size=10,50
// yields the cartesian product, six Experiments. Experiment files may define
// sweeps too (a "sweep:" mapping of key to values, or a list of such mappings
// whose products are joined). A command-line value replaces a file's swept
// values for its key; of a list of mappings it keeps only those that sweep
// the key with that value, if any does (model=cond-ae narrows
// selection_conditional_mnist to its conditional AEs). Every combination gets its own parameters
// directory (see results.ParamsSlug and Experiment.RunDir). key=choice(a,b)
// is the explicit form of a sweep. The path keys results_dir, from_checkpoint
// and datamodule.data_dir (IsPathKey) are never split at commas, so that a
// run directory printed by the command (its parameters directory contains
// commas) can be given back as from_checkpoint; sweep them with choice(),
// quoting a path that contains a comma: choice('/tmp/a,b',/tmp/c). A command
// or file may expand to at most MaxConfigurations configurations.
//
// Values are checked strictly: integer keys take YAML integers only (10.5,
// 1e3 are refused instead of truncated), class numbers likewise, string values
// may not hold control characters, the same target group may not be listed
// twice, and a model.memory_size whose memory cannot fit in the machine's RAM
// is refused with the size it would need.
//
// Unknown keys, group names and enumerated values are errors that name the key
// and suggest the nearest valid spelling; invalid values (negative epochs,
// λ < 0, an architecture that does not fit the dataset, …) are rejected by
// Validate, which Parse calls, so that mistakes fail before any training;
// train.Run checks its experiment with the same rules (ValidateRun).
package config
