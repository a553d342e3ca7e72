// Package layers holds the building blocks of the thesis's convolutional
// autoencoders, written on GoMLX with PyTorch's semantics:
//
//   - [Conv2D]: a strided 2D convolution with bias and PyTorch's symmetric zero
//     padding ("Conv(cin→cout, k, s, p)" in the thesis's architecture table).
//   - [ConvTranspose2D]: the transposed convolution of the decoders with PyTorch's
//     padding and output_padding semantics ("ConvT(cin→cout, k, s, p, op)").
//   - [BatchNorm2D]: batch normalisation with eps 1e-5 and momentum 0.1; in
//     training it normalises with the batch statistics (biased variance) and
//     updates running statistics (unbiased variance), in inference it uses the
//     running statistics — exactly like torch.nn.BatchNorm2d.
//   - [LeakyReLU]: the activation with slope 0.2 used after every "BL" block.
//   - [Dense]: a fully connected layer (torch.nn.Linear) used by the conditional AE.
//
// Images are channels-last ([batch, height, width, channels], NHWC). Kernels are
// stored as [kh, kw, cin, cout] for both convolutions (cin is always the number of
// input channels of the layer, for the transposed convolution too).
//
// Variables are initialised like PyTorch's defaults (kaiming-uniform with a=√5):
// weights and biases uniform in ±1/√fan_in, where fan_in = cin·k·k for convolutions
// and cout·k·k for transposed convolutions (PyTorch computes it from dimension 1 of
// its [cin, cout, kh, kw] weight).
//
// # Formulations
//
// Every layer can be built in two numerically equivalent ways ([Formulation]):
// [Native] uses GoMLX's convolution op (fast on XLA), [Im2Col] builds convolutions
// from strided slices and one matrix multiplication and transposed convolutions
// from one matrix multiplication whose taps are interleaved into stride phases
// (about 6x faster on the pure-Go backend, whose generic convolution is slow, and
// differentiable everywhere since it only uses Slice, Concatenate, Reshape and
// DotGeneral). By default ([Auto]) the choice is made per graph from the backend's
// name: "go" → Im2Col, anything else → Native. [SetFormulation] overrides it.
package layers
