//go:build cgo && !noxla && ((linux && (amd64 || arm64)) || (darwin && arm64))

package backend

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenPluginNamed: a PJRT plugin file that is not a shared library
// (here: text) used to end in "runtime error: invalid memory address or nil
// pointer dereference" (go-xla closes the nil handle of the failed dlopen);
// the cause was only in a log line. The error now names the file and why
// it cannot be loaded. go-xla reads PJRT_PLUGIN_LIBRARY_PATH when the
// program starts, so the check runs in a child process.
func TestBrokenPluginNamed(t *testing.T) {
	if dir := os.Getenv("CMEMAE_TEST_BROKEN_PLUGIN_DIR"); dir != "" {
		_, _, err := New("xla:cpu")
		if err == nil {
			t.Fatal("New(xla:cpu) with a broken plugin succeeded")
		}
		os.Stdout.WriteString("\nERROR: " + err.Error() + "\n")
		_, notice, err := New("")
		if err != nil {
			t.Fatalf("automatic choice with a broken plugin: %v", err)
		}
		os.Stdout.WriteString("\nNOTICE: " + notice + "\n")
		return
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(plugin, []byte("this is not an ELF file\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenPluginNamed$", "-test.v")
	cmd.Env = append(os.Environ(), "CMEMAE_TEST_BROKEN_PLUGIN_DIR="+dir, "PJRT_PLUGIN_LIBRARY_PATH="+dir,
		"GOMLX_NO_AUTO_INSTALL=1", EnvVar+"=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var errLine, notice string
	for _, line := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(line, "ERROR: "); ok {
			errLine = s
		}
		if s, ok := strings.CutPrefix(line, "NOTICE: "); ok {
			notice = s
		}
	}
	t.Logf("error: %s\nnotice: %s", errLine, notice)
	if !strings.Contains(errLine, plugin) || !strings.Contains(errLine, "not a valid shared library") || strings.Contains(errLine, "nil pointer") {
		t.Errorf("New(xla:cpu) error does not name the broken plugin and the cause:\n%s\n(child output:\n%s)", errLine, out)
	}
	if !strings.Contains(notice, plugin) || strings.Contains(notice, "nil pointer") {
		t.Errorf("fallback notice does not name the broken plugin: %s", notice)
	}
}
