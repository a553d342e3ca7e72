package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Hostile configuration values end in a message naming the key and exit
// status 2, before anything is written.
func TestHostileConfigExitTwo(t *testing.T) {
	dir := t.TempDir()
	expDir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model.memory_size=1000000000"}, "model.memory_size: 1000000000 items need about"},
		{[]string{"model.memory_size=1e9"}, `model.memory_size: "1e9" is not written as an integer; write 1000000000`},
		{[]string{"model.memory_size=10.5"}, `model.memory_size: "10.5" is not a whole number`},
		{[]string{"seed=2.5"}, `seed: "2.5" is not a whole number`},
		{[]string{"datamodule.targets=[1.5]"}, `target "1.5" is not a class number`},
		{[]string{"datamodule.targets=[1,1]"}, "target group [1] is listed twice"},
		{[]string{"experiment=" + expDir}, "is a directory; give a YAML file"},
		{[]string{"trainer.backend=tpu"}, "unknown backend"},
	} {
		_, err := runCmd(t, context.Background(), append(c.args, "results_dir="+dir, "datamodule.num_train_samples=8", "trainer.max_epochs=1")...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want containing %q", c.args, err, c.want)
			continue
		}
		if code := exitCode(err, io.Discard); code != 2 {
			t.Errorf("%q: exit code %d, want 2", c.args, code)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("results written despite errors: %v", entries)
	}
}

// Run directories printed by the command can be pasted back as
// from_checkpoint, commas and all; a comma in results_dir is no sweep.
func TestPrintedPathsRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a,b")
	out, err := runCmd(t, context.Background(), "-n", "-estimate=false", "results_dir="+root, "model.memory_size=20", "seed=3", "datamodule.targets=[0]")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // the planned runs (-n adds a summary line)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "run ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("results_dir with a comma planned %d runs:\n%s", len(lines), out)
	}
	_, runDir, ok := strings.Cut(lines[0], "→ ")
	if !ok || !strings.HasPrefix(runDir, root+string(filepath.Separator)) || !strings.Contains(runDir, "model.memory_size=20") {
		t.Fatalf("run line %q", lines[0])
	}
	out, err = runCmd(t, context.Background(), "-cfg", "from_checkpoint="+runDir, "model.model_transformers=[transfer]", "datamodule.targets=[1]")
	if err != nil {
		t.Fatalf("pasting the printed run directory back: %v", err)
	}
	if !strings.Contains(out, "from_checkpoint: "+runDir) || strings.Count(out, "# run ") != 1 {
		t.Errorf("-cfg with the pasted directory:\n%s", out)
	}
}

// A panic inside the command is an internal error with exit status 1, not
// the 2 of configuration errors and Go runtime crashes.
func TestInternalErrorExitCode(t *testing.T) {
	err := internalError{value: "boom", stack: []byte("stack")}
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "internal error") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if code := exitCode(errors.New("data: x cannot be used"), io.Discard); code != 1 {
		t.Errorf("runtime failure exit %d", code)
	}
}

func TestDuplicateSweepValueRefused(t *testing.T) {
	for _, args := range [][]string{{"seed=1,1"}, {"seed=2,02"}, {"results_dir=choice(/r,/r)"}} {
		_, err := runCmd(t, context.Background(), append(args, "-n", "datamodule.targets=[0]")...)
		if err == nil || !strings.Contains(err.Error(), "are the same run") || exitCode(err, io.Discard) != 2 {
			t.Errorf("%q: %v", args, err)
		}
	}
}
