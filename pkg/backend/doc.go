// Package backend chooses the GoMLX compute backend that trains and evaluates
// the C-MemAE models.
//
// The choice follows the thesis's "it just runs" expectation on any machine:
//
//  1. An explicit name (e.g. from the config key trainer.backend) is used as
//     given: "go" for the pure-Go backend, "xla", "xla:cpu" or "xla:cuda" for
//     XLA/PJRT. Failures are returned as errors, never panics.
//  2. Otherwise the environment variable GOMLX_BACKEND is obeyed the same way.
//  3. Otherwise XLA is used if its PJRT plugin is installed locally (CUDA
//     preferred over CPU), or can be auto-installed (skipped when
//     GOMLX_NO_AUTO_INSTALL is set, or when the binary was built without cgo
//     or with the "noxla" build tag). If that fails — e.g. on an offline
//     machine — the pure-Go backend "go" is used and a one-line notice says
//     why.
package backend
