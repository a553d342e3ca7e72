package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchTorchDevice checks that -device and -seconds reach the PyTorch
// reference script (a fake interpreter records its arguments) and that a bad
// device is refused before anything runs.
func TestBenchTorchDevice(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	if _, err := runCmd(t, context.Background(), "bench", "mnist-ae", "-device", "gpu"); err == nil || !strings.Contains(err.Error(), `-device "gpu"`) {
		t.Errorf("bad device: err = %v, want one naming -device \"gpu\"", err)
	}
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	fake := "#!/bin/sh\n" +
		"if [ \"$1\" = -c ]; then exit 0; fi\n" +
		"echo \"$@\" > " + argsFile + "\n" +
		"echo '{\"framework\": \"pytorch fake\", \"model\": \"mnist-ae\", \"batch\": 2, \"train_img_per_s\": 100.0, \"eval_img_per_s\": 400.0}'\n"
	python := filepath.Join(dir, "python")
	if err := os.WriteFile(python, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "ref.py")
	if err := os.WriteFile(script, []byte("# fake\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, context.Background(), "bench", "mnist-ae", "-seconds", "0.01", "-batch", "2", "-eval-batch", "3",
		"-threads", "3", "-python", python, "-torch", script, "-device", "cuda:1")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	got, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("the reference script was not run: %v\n%s", err, out)
	}
	if want := script + " mnist-ae 2 3 cuda:1 0.01"; strings.TrimSpace(string(got)) != want {
		t.Errorf("script arguments %q, want %q", strings.TrimSpace(string(got)), want)
	}
	if !strings.Contains(out, "reference: pytorch fake") || !strings.Contains(out, "100.0") {
		t.Errorf("table lacks the reference's numbers:\n%s", out)
	}
}

func TestValidTorchDevice(t *testing.T) {
	for d, want := range map[string]bool{"cpu": true, "cuda": true, "cuda:0": true, "cuda:12": true,
		"": false, "gpu": false, "cuda:": false, "cuda:x": false, "CPU": false} {
		if got := validTorchDevice(d); got != want {
			t.Errorf("validTorchDevice(%q) = %v, want %v", d, got, want)
		}
	}
}
