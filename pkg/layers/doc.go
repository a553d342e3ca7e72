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
// Every layer can be built in three numerically equivalent ways ([Formulation]):
//
//   - [Native] uses GoMLX's convolution op (fast on XLA). Even kernel sizes (cifar-flat's
//     k2 layers) use the Im2Col form instead: GoMLX's gradient of its convolution is
//     wrong for them (∂x off by O(1) of its scale against PyTorch), and transposed
//     convolutions interleave zeros explicitly because the gradient of the
//     convolution's input dilation is wrong too. Both are still so in v0.28.16;
//     TestUpstream* in this package fail once GoMLX fixes them. (Reverse, whose
//     missing gradient once needed a slice-and-concatenate flip, is differentiable
//     since and used directly.)
//   - [Im2Col] builds convolutions from strided slices and one matrix
//     multiplication and transposed convolutions from one matrix multiplication
//     whose taps are interleaved into stride phases, differentiated by GoMLX's
//     autodiff (about 6x faster than Native on the pure-Go backend, whose generic
//     convolution is slow).
//   - [Fast] is what [Auto] picks on the pure-Go backend ("go"); anything else
//     gets Native. The formulation is an argument of every layer (models carry it
//     in their Config), so one process can build graphs in several.
//
// Why Fast: profiles (go tool pprof, and a per-op timer in a copy of the backend)
// of the mnist-flat MemAE training step with Im2Col showed that only ~15–25% of the
// time was matrix multiplication; the rest went to the Go backend's per-element
// generic kernels — Slice (~18%), Transpose (~20%), binary ops with a broadcast
// operand (~20%), reductions over leading axes (~9%) — most of them created by
// autodiff: every im2col tap's VJP is a Slice+Pad+Add, every broadcast's VJP a
// ReduceSum, every DotGeneral VJP ends in a Transpose (an identity permutation in
// half the cases), and the backend's SIMD "small" matmul path is pathological for
// a transposed right-hand side with K < 16 (up to 50x slower). Fast keeps the
// Im2Col graphs but writes the gradients by hand with custom VJPs (built from
// graph.IdentityWithCustomGradient: autodiff's own VJP nodes are left unused and
// never executed), chosen so that the backward pass uses only MatMuls,
// Concatenates and same-shape elementwise ops:
//
//   - every matrix product (mmFast): lhs [N,K]·rhs [K,M] layout only, narrow
//     outputs zero-padded to ≥16 columns, ∂w transposing the narrower operand;
//   - BatchNorm2D + LeakyReLU ([BatchNorm2DLeakyReLU]) as one op with the
//     closed-form backward on the centred input xc = x − μ (∂β = Σv, ∂γ = σ⁻¹Σv·xc,
//     ∂x = a·v + b·xc + c per channel; statistics in two passes, as PyTorch: the
//     one-pass E[x²]−μ² cancels in float32 on MNIST-like inputs, see pkg/models'
//     TestGoldenGradientsBatch64); per-channel sums are MatMuls with a row of ones and per-channel
//     factors are broadcast to [N, C] (a block copy since compute v0.1.14);
//   - Conv(k3, s2, p1): forward im2col, ∂x as the 4-phase transposed convolution
//     of the cotangent (a few slices on the small side instead of 9 Slice+Pad+Add
//     on the large one), ∂w from the forward's columns;
//   - k == s convolutions: space-to-depth (Reshape + one Transpose, no slices);
//   - ConvT(k3, s2, p1, op1): a 4-phase input-side form (widening layers, with
//     the row phases interleaved by a Concatenate), an output-side form (narrowing
//     layers), or the minimal 9-tap MatMul with a per-phase overlap-add (wide
//     layers, cin·cout ≥ 4096); k == s and other shapes use the stride phases.
//
// Measured with GOEXPERIMENT=simd on a 2-core VM (batch 64, training step incl.
// Adam): mnist-flat MemAE 200–270 → 655–900 img/s, cifar-flat 63 → 98–103 img/s.
// What remains is bounded by the backend (single-threaded per-element Slice and
// Transpose, no fusion of elementwise ops, matmul at 5–10 GFLOP/s per core).
//
// Re-measured on compute v0.1.14 (whose Go backend gained SIMD kernels, fused
// dense/activation ops and broadcasts by block copies): Fast still pays. Process
// CPU time per mnist-flat MemAE training step (BenchmarkTrainStep in pkg/models,
// batch 64): Fast 53 ms, Im2Col 91 ms, Native 716 ms. A CPU profile of the Fast
// step: matrix multiplication 21%, Concatenate copies (im2col, phase
// interleaving) 23%, the backend's generic per-element Slice 16%, elementwise
// ops the rest; the fused dense ops do not apply (every product here is a
// convolution in im2col form with a hand-written gradient). Per-channel rows
// are now broadcast instead of tiled by Concatenates (15% less CPU per step).
// Correctness: TestFastForwardReference / TestFastGradients (every form against
// the definition and autodiff), TestEvenKernelGolden, and pkg/models'
// TestGolden / TestGoldenGradients (PyTorch's outputs and gradients of the whole
// MemAE) run on every formulation.
package layers
