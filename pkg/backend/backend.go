package backend

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// EnvVar is the environment variable naming the backend configuration
// ("go", "xla:cpu", "xla:cuda", …); it is GoMLX's own GOMLX_BACKEND.
const EnvVar = compute.ConfigEnvVar

// GoName is the name of the pure-Go backend.
const GoName = gobackend.BackendName

// GoConfig is the configuration New uses whenever the plain pure-Go backend
// ("go") is asked for or fallen back to: independent operations run in
// parallel (ops_parallel), each also using every core inside its kernels.
// Measured with compute v0.1.14 on 2 cores (bench, batch 64, one run):
// mnist-flat training 1473 vs 1343 img/s sequential, evaluation 4452 vs 3498;
// cifar-flat training 206 vs 144. compute v0.1.2's parallel scheduling could
// deadlock its worker pool (nested Saturate calls from large matrix
// multiplications, seen with the multi-ae baseline), so this project ran
// ops_sequential until the upgrade; v0.1.14 ran the model and training tests,
// multi-ae included, with parallel scheduling without a hang. Any other
// "go:…" configuration is used as given (e.g. "go:ops_sequential").
const GoConfig = GoName + ":ops_parallel"

// ErrUnknown is wrapped by New's error when the backend name is not one of
// Available (a configuration mistake, unlike a backend that fails to start).
var ErrUnknown = errors.New("unknown backend")

// xlaProbe is set by xla.go when the binary includes the XLA backend (cgo
// builds without the "noxla" tag). It returns the configuration to use
// (e.g. "xla:cuda") if a PJRT plugin is installed or could be installed, or
// a reason why XLA is unusable.
var xlaProbe func() (config string, reason string)

// xlaDiagnose, set by plugincheck.go with the XLA backend, explains a failed
// or panicking XLA backend from the plugin files ("" if it finds nothing).
var xlaDiagnose func() string

// explainXLA replaces err, from an XLA configuration, by the cause the
// plugin files show, if any.
func explainXLA(config string, err error) error {
	if err == nil || xlaDiagnose == nil || !isXLAConfig(config) {
		return err
	}
	if why := xlaDiagnose(); why != "" {
		return errors.New(why)
	}
	return err
}

// xlaAliases are the other names GoMLX registers for the XLA backend.
var xlaAliases = []string{"stablehlo", "hlo", "shlo"}

// isXLAConfig reports whether a backend configuration selects XLA.
func isXLAConfig(config string) bool {
	name, _, _ := strings.Cut(config, ":")
	return name == "xla" || slices.Contains(xlaAliases, name)
}

// New returns the compute backend named name (see the package documentation
// for the rules applied when name is empty). notice is a one-line,
// human-readable message when the automatic choice fell back to the Go
// backend, and "" otherwise. New never panics.
func New(name string) (b compute.Backend, notice string, err error) {
	name = strings.TrimSpace(name)
	source := "backend"
	if name == "" {
		if env, ok := os.LookupEnv(EnvVar); ok && strings.TrimSpace(env) != "" {
			name, source = strings.TrimSpace(env), "$"+EnvVar
		}
	}
	if name == GoName {
		name = GoConfig
	}
	if name != "" {
		if backendName, _, _ := strings.Cut(name, ":"); !slices.Contains(compute.List(), backendName) {
			return nil, "", fmt.Errorf("backend: %s=%q: %w (available: %s)", source, name, ErrUnknown, strings.Join(Available(), ", "))
		}
		b, err = newWithConfig(name)
		if err != nil {
			return nil, "", fmt.Errorf("backend: %s=%q: %w (available: %s)", source, name, err, strings.Join(Available(), ", "))
		}
		return b, "", nil
	}

	// Automatic choice: XLA where usable, else Go with a notice.
	reason := "this binary was built without XLA support (needs cgo)"
	if xlaProbe != nil {
		var config string
		config, reason = safeProbe()
		if config != "" {
			b, err = newWithConfig(config)
			if err == nil {
				return b, "", nil
			}
			reason = fmt.Sprintf("XLA backend %q failed: %v", config, err)
		}
	}
	b, err = newWithConfig(GoConfig)
	if err != nil {
		return nil, "", fmt.Errorf("backend: pure-Go backend: %w", err)
	}
	notice = fmt.Sprintf("backend: using the pure-Go backend (slow): %s; set %s=go to silence this notice", oneLine(reason), EnvVar)
	return b, notice, nil
}

// Available lists the backends compiled into this binary.
func Available() []string {
	names := compute.List()
	out := make([]string, 0, len(names))
	for _, n := range names {
		// Aliases of XLA are noise for users.
		if slices.Contains(xlaAliases, n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// newWithConfig calls compute.NewWithConfig, converting panics (unknown
// backend names panic in GoMLX) to errors.
func newWithConfig(config string) (b compute.Backend, err error) {
	defer func() { err = explainXLA(config, err) }() // runs after the recover below
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("%v", r)
		}
	}()
	b, err = compute.NewWithConfig(config)
	if err == nil && b == nil {
		err = fmt.Errorf("backend %q constructor returned nil", config)
	}
	return b, err
}

// safeProbe runs xlaProbe, converting a panic into a reason.
func safeProbe() (config, reason string) {
	defer func() {
		if r := recover(); r != nil {
			config, reason = "", explainXLA("xla", fmt.Errorf("XLA plugin probe failed: %v", r)).Error()
		}
	}()
	return xlaProbe()
}

// oneLine puts a message on one line, whole: runs of white space, line breaks
// included, become single spaces (the notice is never cut, URLs stay intact).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
