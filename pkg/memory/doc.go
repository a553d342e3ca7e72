// Package memory implements the memory module of MemAE (Gong et al., ICCV 2019)
// and the thesis's conditional memory (C-MemAE).
//
// A memory unit is a matrix M of N items × C features (C = the latent's channel
// count). A latent vector z (one per spatial position of the encoder output: a
// spatial latent [B, h, w, C] gives h·w addressing vectors per image, all into the
// same memory) is addressed by
//
//  1. similarity s_j = cosine(z, m_j) (eps 1e-8 on each norm) or dot z·m_j — the
//     "pre-softmax addressing", returned because self-selection and the analysis
//     notebooks use it;
//  2. w = softmax(s) over the N items;
//  3. hard shrinkage when λ > 0: w = relu(w−λ)·w/(|w−λ|+1e-12), then L1
//     renormalisation w = w / max(Σ|w|, 1e-12);
//  4. read-out ẑ = w·M, which replaces z as the decoder's input.
//
// Items are initialised uniformly in ±1/√C ([ItemsInitializer]).
//
// A conditional memory holds K units with the same N and C ([Items] stores them as
// one variable [K, N, C] named "items"). A known condition (the class label during
// training) picks the unit for each sample; an unknown condition is resolved by
// self-selection: per sample, the unit whose pre-softmax similarities have the
// largest sum over items and positions (metric "sum", the thesis's default) or the
// largest single similarity ("max"); the "recon" metric (lowest reconstruction
// error) needs the decoder and lives in package models. With K = 1 it is the plain
// MemAE memory.
//
// The entropy loss −Σ_j w_j log(w_j + 1e-12) comes in two variants ([Entropy]):
// "paper" is the mean entropy per addressing vector; "thesis" reproduces the
// thesis code, which permutes the addressing weights [B, N, h, w] to [B, h, w, N]
// and then sums over axis 1 (h) instead of over the items, before averaging over
// the remaining B·w·N entries: its value is Σ_all(−w log w)/(B·w·N) =
// paper·h/N. For a flat latent (h = w = 1) thesis = paper / N.
package memory
