// Package experiment runs the thesis's experiments: it is this project's
// main.py, shared by the command line (thesis_experiments) and the notebooks.
//
// The thesis ran `python main.py model=memae datamodule=mnist`: Hydra composed
// a configuration from groups, an experiment file and command-line overrides,
// and PyTorch Lightning trained one model per normal class. Here:
//
//   - [Parse] composes the configurations from the same key=value arguments,
//     with the thesis's experiment files of the [Catalogue] (experiment=<name>);
//   - [Plan] lists the runs they make: one per configuration, seed and target
//     group, each with its results directory; [Groups] finds the runs that
//     share one training (conditional known and unknown);
//   - a [Driver] trains them (or leaves the ones already complete), on one
//     backend per trainer.backend and with each dataset loaded once, calling
//     its hooks after every epoch; [Driver.RunAll] also collects the metrics;
//   - [FindTwins] finds finished runs of other experiments that trained and
//     were evaluated alike, which the Driver copies instead of training.
//
// One run is [train.Run]: the training loop, evaluation, checkpoints and
// metrics of one model.
package experiment
