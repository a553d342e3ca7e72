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
// Every notebook starts with budget := notebook.Budget(): "quick" (the default,
// or CMEMAE_BUDGET=quick) trains on small subsets for few epochs so a notebook
// finishes in a few minutes on 2 CPU cores; "full" (CMEMAE_BUDGET=full) uses the
// thesis's settings, meant for a GPU. The notebooks pass the quick overrides
// (e.g. trainer.max_epochs=2 datamodule.num_train_samples=200) only in quick
// mode, with the same key=value syntax as the command line
// (go run ./thesis_experiments model=memae datamodule=mnist …).
//
// # Results
//
// Full-budget results go to <repository>/results, the command line's default
// results_dir, so a notebook finds runs made with the command line; quick
// results go to <repository>/results/quick. CMEMAE_RESULTS_DIR overrides the
// root. [Runner.RunAll] trains only the runs whose metrics.csv does not yet hold
// the last epoch, and loads the others.
//
// Every GoNB cell runs as a separate program, so nothing but files carries over
// between cells: a cell that trains writes its results tree, later cells load it.
package notebook
