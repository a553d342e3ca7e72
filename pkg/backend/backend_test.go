package backend

import (
	"reflect"
	"strings"
	"testing"
)

func TestNewGoFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "go")
	b, notice, err := New("")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer b.Finalize()
	if !isGo(b.Name()) {
		t.Errorf("backend name = %q, want the Go backend", b.Name())
	}
	if notice != "" {
		t.Errorf("explicit choice gave a notice: %q", notice)
	}
}

func TestNewExplicitName(t *testing.T) {
	t.Setenv(EnvVar, "no-such-backend")
	b, _, err := New("go") // explicit name wins over the environment
	if err != nil {
		t.Fatalf("New(go): %v", err)
	}
	b.Finalize()
	if _, _, err := New(""); err == nil || !strings.Contains(err.Error(), "no-such-backend") {
		t.Errorf("unknown backend in $%s: err = %v, want error naming it", EnvVar, err)
	}
}

// TestNewAutomaticOffline checks the automatic choice on a machine without
// an installed PJRT plugin and without internet: no panic, Go backend, notice.
func TestNewAutomaticOffline(t *testing.T) {
	if xlaProbe != nil {
		if plugin := probeInstalledOnly(); plugin != "" {
			t.Skipf("an XLA plugin (%s) is installed here; the fallback is not exercised", plugin)
		}
	}
	t.Setenv(EnvVar, "")
	b, notice, err := New("")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer b.Finalize()
	if !isGo(b.Name()) {
		t.Skipf("backend %q was chosen (XLA could be installed here)", b.Name())
	}
	if notice == "" || strings.Contains(notice, "\n") {
		t.Errorf("notice = %q, want one non-empty line", notice)
	}
	t.Logf("notice: %s", notice)
}

func isGo(name string) bool { return strings.HasPrefix(strings.ToLower(name), "go") }

// opsExecutionType reads the Go backend's scheduling mode (an exported field
// of an internal type) by reflection: in compute v0.1.14, 0 is
// OpsExecutionDynamic, 1 OpsExecutionParallel, 2 OpsExecutionSequential.
func opsExecutionType(t *testing.T, b any) int64 {
	t.Helper()
	v := reflect.ValueOf(b)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f := v.FieldByName("OpsExecutionType")
	if !f.IsValid() {
		t.Fatalf("%T has no OpsExecutionType field (compute version changed?)", b)
	}
	return f.Int()
}

// TestGoBackendIsParallel checks that the plain "go" name, from any source,
// gets parallel op scheduling (GoConfig), while an explicit "go:…"
// configuration is kept.
func TestGoBackendIsParallel(t *testing.T) {
	const parallel, sequential = 1, 2
	for _, tc := range []struct {
		name, env string
		want      int64
	}{
		{"go", "", parallel},
		{"", "go", parallel},
		{"go:ops_sequential", "", sequential},
	} {
		t.Setenv(EnvVar, tc.env)
		b, _, err := New(tc.name)
		if err != nil {
			t.Fatalf("New(%q) with %s=%q: %v", tc.name, EnvVar, tc.env, err)
		}
		got := opsExecutionType(t, b)
		b.Finalize()
		if got != tc.want {
			t.Errorf("New(%q) with %s=%q: scheduling %d, want %d (1 parallel, 2 sequential)", tc.name, EnvVar, tc.env, got, tc.want)
		}
	}
}

// The notice's reason is printed whole: a long auto-install error with its URL
// was cut at 160 characters, in the middle of the URL. Line breaks become spaces.
func TestOneLineKeepsEverything(t *testing.T) {
	url := "https://github.com/gomlx/pjrt-cpu-binaries/releases/download/v0.83.1/pjrt_cpu_linux_amd64.tar.gz"
	reason := "no XLA PJRT plugin installed and auto-install failed: downloading the CPU plugin:\n  Get \"" + url + "\": dial tcp: lookup github.com: no such host\n"
	got := oneLine(reason)
	want := "no XLA PJRT plugin installed and auto-install failed: downloading the CPU plugin: Get \"" + url + "\": dial tcp: lookup github.com: no such host"
	if got != want {
		t.Errorf("oneLine\n got %q\nwant %q", got, want)
	}
}
