package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerEntrypoint runs .ci/docker-entrypoint.sh with and without a (fake)
// nvidia-smi that lists a GPU, and checks the GoMLX backend and budget it exports.
func TestDockerEntrypoint(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(root, ".ci", "docker-entrypoint.sh")
	gpuBin := t.TempDir()
	fake := "#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-0)'\n"
	if err := os.WriteFile(filepath.Join(gpuBin, "nvidia-smi"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	noGPUBin := t.TempDir()
	noGPU := "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.' >&2\nexit 9\n"
	if err := os.WriteFile(filepath.Join(noGPUBin, "nvidia-smi"), []byte(noGPU), 0o755); err != nil {
		t.Fatal(err)
	}
	// A PATH with only what the script needs, so a real nvidia-smi cannot interfere.
	tools := t.TempDir()
	for _, name := range []string{"grep", "sh", "id"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("no %s: %v", name, err)
		}
		if err := os.Symlink(p, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, path string
		env        []string
		want       string
	}{
		{"gpu", gpuBin + ":" + tools, nil, "xla:cuda full"},
		{"no nvidia-smi", tools, nil, "xla:cpu quick"},
		{"nvidia-smi without gpu", noGPUBin + ":" + tools, nil, "xla:cpu quick"},
		{"user choice kept", gpuBin + ":" + tools, []string{"GOMLX_BACKEND=go", "CMEMAE_BUDGET=quick"}, "go quick"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bash, script, "sh", "-c", `echo "$GOMLX_BACKEND $CMEMAE_BUDGET"`)
			cmd.Env = append([]string{"PATH=" + c.path, "HOME=" + t.TempDir()}, c.env...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("entrypoint: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Errorf("GOMLX_BACKEND CMEMAE_BUDGET = %q, want %q", got, c.want)
			}
		})
	}
}
