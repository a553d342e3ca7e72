package testbackend

import (
	"strings"
	"testing"
)

func TestParseTolScale(t *testing.T) {
	cases := []struct {
		name, env string
		want      float64
		err       string
	}{
		{"go", "", 1, ""},
		{"go", "100", 1, ""}, // the pure-Go backend keeps the tests' own tolerances
		{"go:ops_sequential", "", 1, ""},
		{"xla:cuda,tf32=false", "", DefaultTolScale, ""},
		{"xla:cuda", " 4 ", 4, ""},
		{"xla:cpu", "1", 1, ""},
		{"xla:cuda", "0.5", 0, "want a number ≥ 1"},
		{"xla:cuda", "ten", 0, `"ten"`},
	}
	for _, c := range cases {
		got, err := parseTolScale(c.name, c.env)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), EnvTolScale)):
			t.Errorf("parseTolScale(%q, %q) error = %v, want one naming %s and containing %q", c.name, c.env, err, EnvTolScale, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("parseTolScale(%q, %q) = %v, %v; want %v", c.name, c.env, got, err, c.want)
		}
	}
}

func TestNameFromEnv(t *testing.T) {
	t.Setenv(EnvBackend, "")
	if got := Name(); got != "go" {
		t.Errorf("Name() with empty $%s = %q, want go", EnvBackend, got)
	}
	t.Setenv(EnvBackend, " xla:cuda,tf32=false ")
	if got := Name(); got != "xla:cuda,tf32=false" {
		t.Errorf("Name() = %q, want xla:cuda,tf32=false", got)
	}
}

// TestGoByDefault: without CMEMAE_TEST_BACKEND (as in CI) the shared backend
// is the pure-Go one and tolerances are unchanged.
func TestGoByDefault(t *testing.T) {
	if Name() != "go" {
		t.Skipf("$%s=%s", EnvBackend, Name())
	}
	if b := Go(t); !strings.HasPrefix(strings.ToLower(b.Name()), "go") {
		t.Errorf("backend %q, want the pure-Go one", b.Name())
	}
	if got := Tol(t, 1e-4); got != 1e-4 {
		t.Errorf("Tol(1e-4) = %g on the pure-Go backend, want 1e-4", got)
	}
}
