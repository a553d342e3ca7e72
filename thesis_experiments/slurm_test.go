package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The sbatch subcommand writes a job array script with one task per run
// (here 3), the requested resources, absolute log paths (their directory
// created), and the command line unchanged.
func TestSbatchScript(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	bin := filepath.Join(root, "te")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, context.Background(), "sbatch", "-bin", "te", "-parallel", "2", "-time", "1:30:00", "-cpus", "4",
		"-gpus", "1", "-mem", "8G", "-partition", "gpu", "-max-test-images", "50", "-copy-twins=false",
		"experiment=smoke", "datamodule.targets=[0,1,2]", "results_dir=res")
	if err != nil {
		t.Fatalf("sbatch: %v\n%s", err, out)
	}
	script := filepath.Join(root, "res", "smoke", "slurm", "smoke.sbatch")
	for _, want := range []string{"wrote " + script + ": 3 run(s) in a 3-task array (--array=0-2%2)",
		"submit:   sbatch " + script, "table res/smoke"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	logs := filepath.Join(root, "res", "smoke", "slurm", "logs")
	for _, want := range []string{
		"#!/bin/bash\n",
		"\n#SBATCH --job-name=cmemae-smoke\n",
		"\n#SBATCH --array=0-2%2\n",
		"\n#SBATCH --cpus-per-task=4\n",
		"\n#SBATCH --gres=gpu:1\n",
		"\n#SBATCH --time=1:30:00\n",
		"\n#SBATCH --mem=8G\n",
		"\n#SBATCH --partition=gpu\n",
		"\n#SBATCH --output=" + logs + "/%A_%a.out\n",
		"\n#SBATCH --chdir=" + root + "\n",
		"\nexport GOMLX_BACKEND=\"${GOMLX_BACKEND:-xla:cuda}\"\n",
		"\nexec " + bin + " -max-test-images=50 -copy-twins=false experiment=smoke 'datamodule.targets=[0,1,2]' results_dir=res\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("script lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "#SBATCH --account") {
		t.Errorf("script sets an account nobody asked for:\n%s", body)
	}
	if st, err := os.Stat(logs); err != nil || !st.IsDir() {
		t.Errorf("log directory not created: %v", err)
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", script, err, out)
		}
	}

	// -o -: to stdout; more tasks than runs are cut to the runs; defaults:
	// 2 CPUs, no GPU, no time.
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"sbatch", "-o", "-", "-bin", bin, "-tasks", "9", "experiment=smoke", "seed=1,2"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	body = stdout.String()
	for _, want := range []string{"\n#SBATCH --array=0-1\n", "\n#SBATCH --cpus-per-task=2\n", "exec " + bin + " experiment=smoke seed=1,2\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("-o - script lacks %q:\n%s", want, body)
		}
	}
	for _, unwanted := range []string{"--gres", "--time", "GOMLX_BACKEND", "-copy-twins"} {
		if strings.Contains(body, unwanted) {
			t.Errorf("-o - script has %q:\n%s", unwanted, body)
		}
	}
	if !strings.Contains(stderr.String(), "-tasks 9 > 2 trainings (2 runs): using 2 tasks") {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// Without -bin, the tasks get a copy of this program next to the script.
func TestSbatchCopiesProgram(t *testing.T) {
	root := t.TempDir()
	if _, err := runCmd(t, context.Background(), "sbatch", "experiment=smoke", "results_dir="+root); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	want, _ := os.ReadFile(self)
	copyPath := filepath.Join(root, "smoke", "slurm", "thesis_experiments")
	got, err := os.ReadFile(copyPath)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copy of the program: %v (%d bytes, want %d)", err, len(got), len(want))
	}
	if st, _ := os.Stat(copyPath); st.Mode()&0o111 == 0 {
		t.Errorf("copy is not executable: %v", st.Mode())
	}
	script, _ := os.ReadFile(filepath.Join(root, "smoke", "slurm", "smoke.sbatch"))
	if !strings.Contains(string(script), "\nexec "+copyPath+" experiment=smoke results_dir="+root+"\n") {
		t.Errorf("script does not run the copy:\n%s", script)
	}
}

// Mistakes are usage errors (exit 2) naming the flag or key, and nothing is
// written.
func TestSbatchErrors(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-time", "2h", "experiment=smoke"}, `-time "2h" is not a Slurm time`},
		{[]string{"-mem", "lots", "experiment=smoke"}, `-mem "lots" is not a Slurm memory size`},
		{[]string{"-tasks", "5000", "experiment=smoke"}, "-tasks 5000: want 1..1000"},
		{[]string{"-cpus", "0", "experiment=smoke"}, "-cpus 0: want ≥ 1"},
		{[]string{"-partition", "a b", "experiment=smoke"}, `-partition "a b": no spaces`},
		{[]string{"shard=0/2", "experiment=smoke"}, "shard= is set by each array task"},
		{[]string{"experiment=smoke", "model.memory_sise=3"}, `unknown key "model.memory_sise"`},
		{[]string{"experiment=smoke", "seed=2,2"}, "runs 1 and 2 are the same run"},
		{[]string{"-bin", filepath.Join(root, "nope"), "experiment=smoke"}, "is not an executable file"},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
	} {
		args := append([]string{"sbatch"}, c.args...)
		args = append(args, "results_dir="+root)
		_, err := runCmd(t, context.Background(), args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, new(usageError)) {
			t.Errorf("%q: err = %v, want a usage error containing %q", c.args, err, c.want)
		}
		if code := exitCode(err, io.Discard); code != 2 {
			t.Errorf("%q: exit code %d, want 2", c.args, code)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("written despite errors: %v", entries)
	}
	out, err := runCmd(t, context.Background(), "sbatch", "-h")
	if err != nil || !strings.Contains(out, "sbatch results/baseline_mnist/slurm/baseline_mnist.sbatch") || !strings.Contains(out, "-parallel int") {
		t.Errorf("sbatch -h: %v\n%s", err, out)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"experiment=smoke":         "experiment=smoke",
		"datamodule.targets=[0,1]": "'datamodule.targets=[0,1]'",
		"a b":                      "'a b'",
		"it's":                     `'it'\''s'`,
		"":                         "''",
		"/p/x-y_z.1:2,3+4@5%6":     "/p/x-y_z.1:2,3+4@5%6",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// A conditional experiment's known and unknown runs share a training: the
// default array has one task per training, and the script says how runs map
// to tasks.
// Experiments that share a results name keep their own scripts, and a
// script written again for other arguments says it replaces the old one.
func TestSbatchScriptNames(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "te")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sbatch := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), append([]string{"sbatch", "-bin", bin, "seed=1", "results_dir=" + root}, args...), &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
		return stderr.String()
	}
	sbatch("experiment=conditional_mnist")
	sbatch("experiment=selection_conditional_mnist")
	for name, runs := range map[string]string{"conditional_mnist": "# 18 run(s)", "selection_conditional_mnist": "# 24 run(s)"} {
		b, err := os.ReadFile(filepath.Join(root, "conditional_mnist", "slurm", name+".sbatch"))
		if err != nil || !strings.Contains(string(b), runs) {
			t.Errorf("%s.sbatch: %v, want %q in it", name, err, runs)
		}
	}
	if msg := sbatch("experiment=conditional_mnist", "model=memae"); !strings.Contains(msg, "sbatch: replacing "+filepath.Join(root, "conditional_mnist", "slurm", "conditional_mnist.sbatch")+", written before for other arguments") {
		t.Errorf("rewriting a script for other arguments: stderr %q", msg)
	}
	// The same arguments again, a while later: the script differs only in
	// the line that says when it was written, and replaces nothing.
	script := filepath.Join(root, "conditional_mnist", "slurm", "conditional_mnist.sbatch")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	dated := regexp.MustCompile("(written by `thesis_experiments sbatch` on )[^\\n]*\\.\n")
	if !dated.Match(b) {
		t.Fatalf("%s has no line saying when it was written:\n%s", script, b)
	}
	if err := os.WriteFile(script, dated.ReplaceAll(b, []byte("${1}2001-02-03T04:05:06Z.\n")), 0o755); err != nil {
		t.Fatal(err)
	}
	if msg := sbatch("experiment=conditional_mnist", "model=memae"); strings.Contains(msg, "replacing") {
		t.Errorf("the same arguments again: stderr %q", msg)
	}
}

func TestSbatchCountsTrainings(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "te")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"sbatch", "-o", "-", "-bin", bin, "experiment=conditional_mnist", "seed=1", "results_dir=" + root}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	body := stdout.String()
	for _, want := range []string{"\n#SBATCH --array=0-8\n", "# 18 run(s) (list them:", "in 9 array task(s): task i trains the trainings t\n",
		"# with (t-1) mod 9 = i (a run, or runs that share one training, e.g. conditional known\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("script lacks %q:\n%s", want, body)
		}
	}
}
