// Package train trains and evaluates the thesis's models: the Go counterpart of
// the thesis's PyTorch Lightning module and `python main.py …` loop.
//
// [Run] trains one model — one configuration, one seed, one target group — and
// evaluates it on every target's one-class test set after each epoch:
//
//   - Optimiser: Adam (β₁ 0.9, β₂ 0.999, ε 1e-8, no weight decay — PyTorch's
//     defaults) with the configured learning rate; mini-batches of
//     datamodule.batch_size, reshuffled every epoch (seeded), the last partial
//     batch kept; trainer.max_epochs epochs.
//   - Loss: the model's Output.Loss (MSE, plus the weighted entropy of the
//     memory addressing for memory models).
//   - Conditions: training always uses the sample's label as the condition
//     (its index within the targets). At test time, conditional "known" uses
//     the target being tested, "unknown" lets the model self-select, "none"
//     gives no condition.
//   - Evaluation, every epoch and per target: per-image reconstruction error,
//     normal confidence 1 − (e − min)/(max − min), AUROC of that confidence
//     against "is normal", the mean error of the normal and of the anomalous
//     images, and for unknown conditions the selection accuracy: the fraction
//     of the target's normal test images for which self-selection chose the
//     memory (or AE) of that target. The mean AUROC over targets is reported
//     too. Rows go to <run dir>/metrics.csv (package results).
//
// Runs that train alike — conditional known beside unknown, or another
// self-selection metric: only the evaluation differs — share one training
// through Options.Siblings ([Sibling]): each epoch is trained once and then
// evaluated and saved into every sibling's own directory, which ends up
// exactly as if that run had trained alone.
//
// # Checkpoints and resuming
//
// A run directory holds checkpoints/init (before training) and
// checkpoints/epoch_NNNN every experiment.save_checkpoints_every_n_epochs
// epochs and after the last epoch, and checkpoints/last, rewritten after every
// epoch (PyTorch Lightning's save_last). Epochs are numbered from 1; epoch_0005 is
// the state after five passes over the training data. A checkpoint is a
// directory with variables.bin (every variable of the model.Store: weights,
// batch-norm statistics, memory, Adam moments and step, the store's RNG state)
// and state.json (epoch, effective model configuration, targets, seed, and
// variables.bin's SHA-256, checked on loading). It is
// written into a hidden temporary directory, fsynced and renamed into place,
// so a crash never leaves a half-written checkpoint. The shuffling order of
// epoch e depends only on (seed, e), so a resumed run sees the same batches as
// an uninterrupted one.
//
// Run resumes automatically: if the run directory has checkpoints, training
// continues after the latest one (LatestCheckpoint: normally last),
// metrics.csv rows of later epochs (written before the interruption) are
// dropped, and the run ends after the same number of epochs as an
// uninterrupted one. Cancelling the context (Ctrl-C) stops after the current
// training step; as last holds the last finished epoch, the resumed run trains
// no finished epoch again.
//
// A run owns its directory while it trains: Run holds an OS file lock on
// <run dir>/.lock ([LockFile]), so two processes — on one machine, or on
// several sharing a filesystem — never train the same run at once. The second
// one fails with [ErrLocked] naming the holder (pid and host), or waits with
// Options.WaitForLock; [Completed] tells whether a run's checkpoints reach
// its last epoch. A run directory whose metrics.csv holds trained epochs but
// which has no checkpoint (exported results) is refused
// ([ErrMetricsWithoutCheckpoint]) rather than trained from scratch over them.
//
// # Few-shot memory initialisation ("model transformers")
//
// experiment.from_checkpoint names a checkpoint directory, or a run directory
// (its latest checkpoint), of another run. Its weights are loaded before
// training (transfer learning); model.model_transformers then modify the
// memory, in order, before the init checkpoint is written:
//
//	transfer                keep everything from the checkpoint (needs from_checkpoint)
//	delete_memory           re-initialise the memory (same number of memories and size N)
//	copy_samples            the k encoded training samples become the memory (N = k)
//	copy_best_fitting       for each encoded sample, the item with the highest
//	                        pre-softmax similarity across all (conditional) memories;
//	                        those k items become one memory (N = k)
//	conditional_to_deleted  replace the memories by one fresh memory of the same N
//	freeze                  no weight changes at all: every epoch only evaluates
//
// See [Transformers]. Latents with several positions (spatial
// architectures) are averaged over positions for copy_samples and
// copy_best_fitting.
package train
