package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// TestMain lets the tests run this test binary as the command itself
// (CMEMAE_RUN_MAIN=1), so that exit statuses and signals are those of the
// built binary.
func TestMain(m *testing.M) {
	if os.Getenv("CMEMAE_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CMEMAE_RUN_MAIN=1", "GOMLX_BACKEND=go", data.EnvOffline+"=1")
	return cmd
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("not an exit status: %v", err)
	}
	return ee.ExitCode()
}

// The built command exits 2 for a configuration error.
func TestExitStatusConfigError(t *testing.T) {
	var stderr bytes.Buffer
	cmd := command("model.memory_sise=3", "results_dir="+t.TempDir())
	cmd.Stderr = &stderr
	if code := exitStatus(t, cmd.Run()); code != 2 || !strings.Contains(stderr.String(), `did you mean "model.memory_size"?`) {
		t.Errorf("exit status %d, stderr %q; want 2 and the suggestion", code, stderr.String())
	}
}

// A real SIGINT (Ctrl-C) after the first epoch: exit status 130, the "last"
// checkpoint holds the last finished epoch, and the same command again trains
// only the epochs after it.
func TestCtrlCKeepsFinishedEpochs(t *testing.T) {
	root := t.TempDir()
	args := []string{"experiment=smoke", "datamodule.num_train_samples=320", "trainer.max_epochs=4",
		"save_checkpoints_every_n_epochs=3", "-max-test-images", "300", "results_dir=" + root}
	cmd := command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var firstOut strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		firstOut.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "epoch 1/4") {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}
	}
	code := exitStatus(t, cmd.Wait())
	if code != 130 {
		t.Fatalf("exit status %d after Ctrl-C, want 130\nstdout:\n%s\nstderr:\n%s", code, firstOut.String(), stderr.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "smoke", "*", "seed_1", "target_0"))
	if len(dirs) != 1 {
		t.Fatalf("run directories %v, want one", dirs)
	}
	dir := dirs[0]
	last, ok, err := train.LatestCheckpoint(dir)
	if err != nil || !ok || last.Name != train.LastCheckpoint || last.Epoch < 1 || last.Epoch >= 4 {
		t.Fatalf("after Ctrl-C the latest checkpoint is %+v (%v, %v); want last of epoch 1..3\nstderr:\n%s", last, ok, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "resumes from checkpoint last (epoch ") {
		t.Errorf("stderr does not say where the run resumes:\n%s", stderr.String())
	}
	finished := last.Epoch

	out, err := command(args...).Output()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	for e := 1; e <= 4; e++ {
		line := "epoch " + string(rune('0'+e)) + "/4  loss"
		if got, want := strings.Contains(string(out), line), e > finished; got != want {
			t.Errorf("resumed run: epoch %d trained = %v, want %v (checkpoint last was epoch %d)\n%s", e, got, want, finished, out)
		}
	}
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.Epoch != i+1 {
			t.Fatalf("metrics.csv epochs %+v, want 1..4 once each", rows)
		}
	}
	if len(rows) != 4 {
		t.Errorf("metrics.csv has %d rows, want 4", len(rows))
	}
}
