// Package testbackend gives the project's tests one process-wide GoMLX
// backend. By default it is the pure-Go backend, configured as package backend
// configures it for users (backend.GoConfig: parallel op scheduling).
//
// CMEMAE_TEST_BACKEND names another backend configuration for the same tests,
// e.g. "xla:cuda,tf32=false" (the GPU check, .ci/gpu-check.sh, runs the model
// and layer tests' golden comparisons against PyTorch that way). On a backend
// other than the pure-Go one the tolerances of the numeric comparisons are
// multiplied by [TolScale] (default 10, CMEMAE_TEST_TOL_SCALE overrides it):
// float32 on a GPU sums in other orders, fuses multiply-adds and uses its own
// exp/log/rsqrt, so its last bits differ from the CPU's. On the pure-Go backend
// the scale is always 1: its tolerances are the ones written in the tests.
package testbackend

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
)

const (
	// EnvBackend names the backend configuration the tests use instead of the
	// pure-Go one ("" or unset: pure Go).
	EnvBackend = "CMEMAE_TEST_BACKEND"
	// EnvTolScale overrides the tolerance scale on backends other than pure Go.
	EnvTolScale = "CMEMAE_TEST_TOL_SCALE"
	// DefaultTolScale is the tolerance scale on backends other than pure Go.
	DefaultTolScale = 10.0
)

// Name returns the backend configuration the tests use: $CMEMAE_TEST_BACKEND
// or "go".
func Name() string {
	if name := strings.TrimSpace(os.Getenv(EnvBackend)); name != "" {
		return name
	}
	return backend.GoName
}

// isGo reports whether the configuration name is the pure-Go backend.
func isGo(name string) bool {
	return name == backend.GoName || strings.HasPrefix(name, backend.GoName+":")
}

var shared = sync.OnceValues(func() (compute.Backend, error) {
	name := Name()
	b, _, err := backend.New(name)
	if err != nil {
		return nil, fmt.Errorf("test backend %q (from $%s): %w", name, EnvBackend, err)
	}
	return b, nil
})

// Go returns the shared test backend (the pure-Go one unless
// CMEMAE_TEST_BACKEND names another), failing the test if it cannot be
// created.
func Go(t testing.TB) compute.Backend {
	t.Helper()
	b, err := shared()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

// tolScale is TolScale's value and its error, computed once.
var tolScale = sync.OnceValues(func() (float64, error) {
	return parseTolScale(Name(), os.Getenv(EnvTolScale))
})

// parseTolScale returns the tolerance scale for backend name given the value
// of CMEMAE_TEST_TOL_SCALE.
func parseTolScale(name, env string) (float64, error) {
	if isGo(name) {
		return 1, nil
	}
	env = strings.TrimSpace(env)
	if env == "" {
		return DefaultTolScale, nil
	}
	s, err := strconv.ParseFloat(env, 64)
	if err != nil || !(s >= 1) {
		return 0, fmt.Errorf("$%s=%q: want a number ≥ 1 (the factor applied to the tests' tolerances)", EnvTolScale, env)
	}
	return s, nil
}

// TolScale returns the factor applied to numeric tolerances: 1 on the pure-Go
// backend, else $CMEMAE_TEST_TOL_SCALE or DefaultTolScale. A malformed
// CMEMAE_TEST_TOL_SCALE fails the test.
func TolScale(t testing.TB) float64 {
	t.Helper()
	s, err := tolScale()
	if err != nil {
		t.Fatalf("testbackend: %v", err)
	}
	return s
}

// Tol returns tol × TolScale(t).
func Tol(t testing.TB, tol float64) float64 {
	t.Helper()
	return tol * TolScale(t)
}
