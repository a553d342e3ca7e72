// Package models builds the thesis's autoencoders on GoMLX.
//
// A [Config] names an architecture (Arch: "mnist", "mnist-flat", "mnist-flat2",
// "cifar", "cifar-flat", the encoder/decoder stacks of the thesis's table, see
// [Archs]) and a model kind:
//
//   - "ae": the plain convolutional autoencoder (loss: MSE).
//   - "memae": MemAE — the memory module between encoder and decoder (loss: MSE +
//     EntropyLossWeight·entropy). With NumConditions > 1 it is the thesis's C-MemAE:
//     one memory unit per condition sharing encoder and decoder; a known condition
//     picks the unit, an unknown one is found by self-selection (SelectionMetric).
//   - "cond-ae": the conditional AE baseline — the flat latent (D = 64 MNIST,
//     256 CIFAR) concatenated with a one-hot condition and mixed by
//     Linear(D+K→D)+LeakyReLU, Linear(D→D)+LeakyReLU before the decoder. Flat
//     architectures only. Unknown condition: the condition with the lowest
//     reconstruction error.
//   - "multi-ae": K separate AEs; known condition picks one, unknown → the AE with
//     the lowest reconstruction error.
//
// [New] validates the config and returns a [Model]. Its graph-building methods
// ([Model.Forward], [Model.Encode], [Model.Decode], [Model.ReadMemory]) are
// called inside a GoMLX graph function with a *model.Scope where the variables
// live (normally store.RootScope()). Variables are laid out as
//
//	<scope>/encoder/...      <scope>/decoder/...      (multi-ae: <scope>/ae_<k>/encoder, ...)
//	<scope>/memory/items     [K, N, C] memory items of the K conditional units
//	<scope>/condition/...    dense layers of the conditional AE
//
// so training can freeze or re-initialise the memory ([MemoryScopeName]).
// Batch normalisation uses batch statistics when the graph is marked as training
// (store.SetTraining(g, true)) and running statistics otherwise.
//
// [Model.Memories] and [Model.SetMemories] read and replace the memory items
// ([N, C] per unit; SetMemories may change N and the number of units, as the
// few-shot "copy samples" initialisation does).
package models
