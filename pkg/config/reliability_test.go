package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fractional values for integer keys are refused rather than truncated
// (model.memory_size=10.5 used to train with 10).
func TestIntegerKeysRejectFractions(t *testing.T) {
	for _, c := range []struct {
		arg, want string
	}{
		{"model.memory_size=10.5", `model.memory_size: "10.5" is not a whole number`},
		{"seed=1.5", `seed: "1.5" is not a whole number`},
		{"trainer.max_epochs=2.9", `trainer.max_epochs: "2.9" is not a whole number`},
		{"datamodule.targets=[1.5]", `target "1.5" is not a class number`},
		{"datamodule.targets=[[0,1.5]]", `target "1.5" is not a class number`},
		{"datamodule.targets=2.5", `target "2.5" is not a class number`},
		{"model.memory_size=1e3", `"1e3" is not written as an integer; write 1000`},
		{"model.memory_size=1e30", `"1e30" is too large for an integer`},
		{"seed=.inf", `seed: ".inf" is not a whole number`},
	} {
		_, err := Parse(c.arg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q): err = %v, want it to contain %q", c.arg, err, c.want)
		}
	}
	// Integers still work.
	e := parse1(t, "model.memory_size=12", "seed=-3", "datamodule.targets=[[0,1]]", "conditional=known")
	if e.Model.MemorySize != 12 || e.Seed != -3 || len(e.Datamodule.Targets) != 1 || len(e.Datamodule.Targets[0]) != 2 {
		t.Errorf("integers: %+v", e)
	}
}

func TestIntegerKeysInYAMLFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "exp.yaml")
	body := "model:\n  arch: mnist-flat\n  memory_size: 10.5\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("experiment=" + p)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), `model.memory_size: "10.5" is not a whole number`) {
		t.Errorf("YAML memory_size 10.5: %v", err)
	}
	if err := os.WriteFile(p, []byte("datamodule:\n  targets: [0, 2.0]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("experiment=" + p); err == nil || !strings.Contains(err.Error(), `target "2.0" is not a class number`) {
		t.Errorf("YAML targets 2.0: %v", err)
	}
	if err := os.WriteFile(p, []byte("sweep:\n  seed: [1, 2.5]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("experiment=" + p); err == nil || !strings.Contains(err.Error(), `seed: "2.5" is not a whole number`) {
		t.Errorf("YAML sweep seed 2.5: %v", err)
	}
	// A run's config.yaml read back is checked the same way.
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("seed: 1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadExperiment(cfg); err == nil || !strings.Contains(err.Error(), `seed: "1.5" is not a whole number`) {
		t.Errorf("ReadExperiment seed 1.5: %v", err)
	}
}

// A memory size that cannot fit is refused before anything is allocated,
// naming the size it would need.
func TestHugeMemorySizeRefused(t *testing.T) {
	_, err := Parse("model.memory_size=1000000000")
	if err == nil || !strings.Contains(err.Error(), "model.memory_size: 1000000000 items need about") ||
		!strings.Contains(err.Error(), "use a smaller model.memory_size") {
		t.Fatalf("memory_size=1e9: %v", err)
	}
	t.Log(err)
	// The estimate: mnist-flat C=64, 1 memory, flat latent, batch 500:
	// 1e9·64·4·4 + 500·1·1e9·4·4 bytes.
	old := memoryLimit
	t.Cleanup(func() { memoryLimit = old })
	memoryLimit = func() float64 { return 1e9*64*16 + 500*1e9*16 - 1 }
	if _, err := Parse("model.memory_size=1000000000"); err == nil {
		t.Errorf("limit just below the estimate: accepted")
	}
	memoryLimit = func() float64 { return 1e9*64*16 + 500*1e9*16 }
	if _, err := Parse("model.memory_size=1000000000"); err != nil {
		t.Errorf("limit equal to the estimate: %v", err)
	}
	// Thesis sizes pass on any machine.
	parse1(t, "datamodule=cifar", "model.memory_size=500")
}

// Commas inside path values are part of the path; sweeps over paths use
// choice(…).
func TestPathKeysKeepCommas(t *testing.T) {
	e := parse1(t, "results_dir=/tmp/a,b")
	if e.ResultsDir != "/tmp/a,b" {
		t.Errorf("results_dir = %q", e.ResultsDir)
	}
	run := "results/memae_mnist/model.memory_size=20,seed=3/seed_3/target_0-1"
	e = parse1(t, "from_checkpoint="+run, "model.model_transformers=[transfer]")
	if e.FromCheckpoint != run {
		t.Errorf("from_checkpoint = %q, want %q", e.FromCheckpoint, run)
	}
	e = parse1(t, "datamodule.data_dir=/data/x,y")
	if e.Datamodule.DataDir != "/data/x,y" {
		t.Errorf("data_dir = %q", e.Datamodule.DataDir)
	}
	exps, err := Parse("results_dir=choice(/tmp/a,'/tmp/b,c')", "seed=1,2")
	if err != nil || len(exps) != 4 {
		t.Fatalf("choice sweep: %d, %v", len(exps), err)
	}
	if exps[0].ResultsDir != "/tmp/a" || exps[2].ResultsDir != "/tmp/b,c" || exps[1].Seed != 2 {
		t.Errorf("choice sweep: %q %q seed %d", exps[0].ResultsDir, exps[2].ResultsDir, exps[1].Seed)
	}
	// choice() works for every key.
	if exps, err := Parse("seed=choice(4,5,6)"); err != nil || len(exps) != 3 || exps[2].Seed != 6 {
		t.Errorf("seed=choice(4,5,6): %d %v", len(exps), err)
	}
	if _, err := Parse("seed=choice()"); err == nil {
		t.Errorf("empty choice() accepted")
	}
}

func TestDuplicateTargetsRejected(t *testing.T) {
	for _, arg := range []string{"datamodule.targets=[1,1]", "datamodule.targets=[[0,1],[0,1]]"} {
		_, err := Parse(arg)
		if err == nil || !strings.Contains(err.Error(), "is listed twice") {
			t.Errorf("%s: %v", arg, err)
		}
	}
}

func TestExperimentDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{dir, dir + "/"} {
		_, err := Parse("experiment=" + v)
		if err == nil || !strings.Contains(err.Error(), "is a directory; give a YAML file") {
			t.Errorf("experiment=%s: %v", v, err)
		}
	}
	_, err := Parse("experiment=" + filepath.Join(dir, "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	// A YAML file with a comma in its name is one experiment.
	p := filepath.Join(dir, "a,b.yaml")
	if err := os.WriteFile(p, []byte("seed: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := parse1(t, "experiment="+p); e.Seed != 7 || e.Name != "a,b" {
		t.Errorf("experiment a,b.yaml: seed %d name %q", e.Seed, e.Name)
	}
}

func TestExperimentNotRegularFile(t *testing.T) {
	_, err := Parse("experiment=/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "experiment=/dev/zero is not a regular file") {
		t.Errorf("experiment=/dev/zero: %v", err)
	}
}

// A sweep that would expand to millions of configurations is refused before
// it is expanded.
func TestSweepExplosionRefused(t *testing.T) {
	v := "choice(" + strings.Repeat("1,", 99) + "1)" // 100 values
	_, err := Parse("seed="+v, "model.memory_size="+v, "trainer.max_epochs="+v)
	if err == nil || !strings.Contains(err.Error(), "more than 100000 configurations") {
		t.Errorf("1e6 configurations: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "big.yaml")
	list := "[" + strings.Repeat("1,", 99) + "1]"
	body := "sweep:\n  seed: " + list + "\n  model.memory_size: " + list + "\n  trainer.max_epochs: " + list + "\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("experiment=" + p); err == nil || !strings.Contains(err.Error(), "more than 100000 configurations") {
		t.Errorf("file sweep of 1e6: %v", err)
	}
}

// Found by FuzzOverride: a control character in a value made a config.yaml
// that does not read back.
func TestControlCharactersRejected(t *testing.T) {
	for _, arg := range []string{"from_checkpoint=\x7f", "name=a\x01b", "results_dir=/tmp/x\ty"} {
		_, err := Parse(arg)
		if err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: %v", arg, err)
		}
	}
}
