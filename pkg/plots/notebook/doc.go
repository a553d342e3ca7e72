// Package notebook holds what the GoNB notebooks in notebooks/ share besides
// plotting: the budget switch, where results live, running an experiment grid or
// loading it when it was already computed, and the model analyses of the memory
// notebook (addressing vectors, reconstructions, decoded memory items, memory
// change between checkpoints), and the interactive playground of notebook 05
// (RunPlayground: GoNB widgets choose the settings of a small MemAE, whose AUROC
// curve and reconstructions are redrawn after every training epoch).
//
// # Budgets
//
// Every notebook starts with budget := notebook.BudgetOr("quick"), overridden by
// CMEMAE_BUDGET: a budget overlay of the experiment catalogue (quick, cpu, full;
// see experiment.Budget). A notebook selects the thesis's experiments as the
// command line does (experiment=baseline_mnist …) and [Experiments] adds
// budget=<budget>; in the quick budget a notebook also passes its cuts (fewer
// classes, sweep values or shots). [BudgetSummary] says what the budget changes
// from the thesis and what that does to the numbers; [ShowAnchors] sets the
// MemAE paper's AUROCs beside this project's.
//
// # Results
//
// Results go to [ResultsDir]: <repository>/results for full (the command line's
// default results_dir, so a notebook finds runs made with the command line) and
// <repository>/results/<budget> for the others. CMEMAE_RESULTS_DIR overrides the
// root. A budget first reads the results shipped with the repository for it
// ([ShippedDir], notebooks/results-<budget>-budget, read-only: every run of
// notebooks 01–04 for cpu, the flat-latent baseline for full): [RunDir] and
// [Load] take a run from there when it is complete. [Runner.RunAll] trains only the
// runs found complete nowhere, and loads the others; [Overlay] sets another
// budget's rows beside the shipped ones.
//
// Every GoNB cell runs as a separate program, so nothing but files carries over
// between cells: a cell that trains writes its results tree, later cells load it.
package notebook
