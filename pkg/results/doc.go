// Package results defines where a C-MemAE run keeps its outputs and turns a tree
// of finished (or interrupted) runs into tables for the thesis's figures.
//
// # Directory layout
//
// Every run — one experiment configuration, one seed, one target group — owns
// one directory:
//
//	<ResultsDir>/<experiment>/<params slug>/seed_<seed>/target_<t1-t2-…>/
//	    config.yaml        the resolved configuration of the run
//	    metrics.csv        one row per epoch and tested class (see Row)
//	    checkpoints/       init/ (before training), epoch_0005/, …, last/ (written by package train)
//	    memory_change.csv  exported runs with checkpoints left out (train.MemoryChangeFile)
//
// <experiment> is the experiment's name (e.g. "baseline_mnist"), <params slug>
// names the swept parameters that distinguish configurations of the same
// experiment (e.g. "model.memory_size=50,model.shrink_threshold=0", or
// "default" when nothing was overridden; see ParamsSlug), seed_<seed> is the
// random seed and target_<…> the normal class(es) the model was trained on:
// "target_3" for a one-class run, "target_1-7" for a conditional run on the
// class pair (1, 7). RunDir builds such a path.
//
// # Metrics
//
// metrics.csv is a tidy table with the header
//
//	experiment,params,seed,target,condition,epoch,train_loss,auroc,mean_err_normal,mean_err_anomalous,selection_accuracy
//
// and one row per epoch and per tested class ("condition"): a conditional run on
// (1, 7) writes two rows per epoch. Rows are appended durably (AppendCSV fsyncs
// every write), so a run killed mid-epoch leaves a readable file; ReadCSV
// ignores a torn last line. Values that do not apply (the selection accuracy of
// a non-conditional run) are written as NaN.
//
// # Tables
//
// Load walks a results tree into a Table. Its helpers reproduce the thesis's
// analyses: Filter, GroupBy, MaxOverEpochs (best AUROC of each run),
// MeanOverSeeds, and Pivot (class × configuration), which exports a booktabs
// LaTeX table like the ones in the thesis.
package results
