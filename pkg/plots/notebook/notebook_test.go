package notebook

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

func TestBudgetAndDirs(t *testing.T) {
	for env, want := range map[string]string{"": Quick, "quick": Quick, "FULL": Full, "cpu": CPU, "bogus": Quick} {
		t.Setenv(BudgetEnv, env)
		if got := Budget(); got != want {
			t.Errorf("%s=%q: Budget() = %q, want %q", BudgetEnv, env, got, want)
		}
	}
	if Pick(Full, 1, 2) != 2 || Pick(Quick, 1, 2) != 1 {
		t.Error("Pick")
	}
	t.Setenv(ResultsEnv, "")
	if d := ResultsDir(Quick); !strings.HasSuffix(d, "/results/quick") {
		t.Errorf("ResultsDir(quick) = %q", d)
	}
	t.Setenv(ResultsEnv, "/x")
	if d := ResultsDir(Full); d != "/x" {
		t.Errorf("ResultsDir with %s = %q", ResultsEnv, d)
	}
	s := Softmax([]float64{0, math.Log(3)})
	if math.Abs(s[0]-0.25) > 1e-12 || math.Abs(s[1]-0.75) > 1e-12 {
		t.Errorf("Softmax = %v, want [0.25 0.75]", s)
	}
}

// TestRunLoadAnalyse trains a tiny MemAE, checks a second RunAll loads it
// instead of training, then runs the analyses on its checkpoints.
func TestRunLoadAnalyse(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	t.Setenv(ResultsEnv, t.TempDir())
	if _, err := data.Load("mnist", data.Test, data.LoadOptions{}); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	exps, err := Experiments(Quick, []string{"name=nbtest", "model=memae", "datamodule=mnist", "datamodule.targets=[3]"},
		[]string{"trainer.max_epochs=2", "datamodule.num_train_samples=64", "save_checkpoints_every_n_epochs=1"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(Quick)
	if err != nil {
		t.Fatal(err)
	}
	r.MaxTestImages = 100
	var out bytes.Buffer
	r.Out = &out
	tab, err := r.RunAll(context.Background(), exps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nbtest: 1 runs, 1 trained (mean last-epoch AUROC") {
		t.Errorf("first RunAll output: %q", out.String())
	}
	out.Reset()
	tab2, err := r.RunAll(context.Background(), exps)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nbtest: 1 runs, 1 loaded\n") || tab2.Len() != tab.Len() || tab.Len() == 0 {
		t.Errorf("second RunAll: %q, %d rows vs %d", out.String(), tab2.Len(), tab.Len())
	}
	dir := exps[0].RunDir([]int{3})
	complete := func(lastEpoch int, targets []int) bool {
		e := exps[0]
		e.Trainer.MaxEpochs = lastEpoch
		return experiment.Run{Experiment: e, Targets: targets, Dir: dir}.Complete()
	}
	if !complete(2, []int{3}) || complete(3, []int{3}) || complete(2, []int{3, 4}) {
		t.Error("Complete")
	}

	ck, err := train.LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, test := mustData(t, r)
	const n = 4
	a, err := Analyse(r.Backend(), ck, test.Images[:n*28*28], n, nil, models.CondNone)
	if err != nil {
		t.Fatal(err)
	}
	if a.P != 1 || a.M != 10 || a.LC != 64 || len(a.Recon) != n*28*28 || len(a.Errors) != n {
		t.Fatalf("analysis shapes: P=%d M=%d LC=%d recon=%d errs=%d", a.P, a.M, a.LC, len(a.Recon), len(a.Errors))
	}
	for i := range n {
		// The post-shrinkage weights are L1-normalised, and the per-image error
		// is the mean squared difference of input and reconstruction.
		w := a.Vector(a.Weights, i, 0)
		sum := 0.0
		for _, v := range w {
			sum += v
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("image %d: weights sum to %v", i, sum)
		}
		mse := 0.0
		for j := range 28 * 28 {
			d := float64(a.Recon[i*784+j] - test.Images[i*784+j])
			mse += d * d
		}
		if mse /= 784; math.Abs(mse-float64(a.Errors[i])) > 1e-4*mse {
			t.Errorf("image %d: error %v, recomputed %v", i, a.Errors[i], mse)
		}
	}
	imgs, m, err := DecodeMemory(r.Backend(), ck, 0)
	if err != nil || m != 10 || len(imgs) != 10*28*28 {
		t.Fatalf("DecodeMemory: %d items, %d values, %v", m, len(imgs), err)
	}
	epochs, changes, err := train.MemoryChanges(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 3 || epochs[0] != 0 || epochs[2] != 2 || len(changes) != 2 {
		t.Fatalf("MemoryChanges: epochs %v, %d changes", epochs, len(changes))
	}
	for _, c := range changes {
		if len(c) != 1 || !(c[0] > 0 && c[0] < 1) {
			t.Errorf("memory change %v, want one value in (0, 1)", c)
		}
	}
}

func mustData(t *testing.T, r *Runner) (*data.Dataset, *data.Dataset) {
	tr, te, err := r.Dataset("mnist", "")
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}

func TestParams(t *testing.T) {
	p := Params("model=memae,model.arch=mnist,datamodule.targets=[0,1],seed=2")
	if p["model"] != "memae" || p["model.arch"] != "mnist" || p["datamodule.targets"] != "[0,1]" || p["seed"] != "2" {
		t.Errorf("Params = %v", p)
	}
	r := results.Row{Params: "model=ae,model.arch=cifar-flat"}
	if l := ModelLabel(r, "memae", "mnist"); l != "AE flat" {
		t.Errorf("ModelLabel = %q", l)
	}
	if l := ModelLabel(results.Row{Params: "default"}, "memae", "mnist"); l != "MemAE spatial" {
		t.Errorf("ModelLabel(default) = %q", l)
	}
}

func TestCondLabel(t *testing.T) {
	for params, want := range map[string]string{
		"model=memae,conditional=known":                               "C-MemAE known",
		"conditional=unknown,model.selection_metric=recon":            "C-MemAE unknown (recon)",
		"model=memae,conditional=unknown":                             "C-MemAE unknown (sum)",
		"model=multi-ae,conditional=unknown,datamodule.batch_size=16": "multiple AEs unknown",
	} {
		if got := CondLabel(results.Row{Params: params}); got != want {
			t.Errorf("CondLabel(%q) = %q, want %q", params, got, want)
		}
	}
}

func TestAddressingFigures(t *testing.T) {
	// A synthetic analysis: one image, one position, 3 memory items, 2 latent features.
	a := &Analysis{N: 1, LH: 1, LW: 1, LC: 2, P: 1, M: 3,
		Latent: []float32{0.5, -1}, Similarities: []float32{0, float32(math.Log(2)), 0}, Weights: []float32{0, 1, 0}}
	figs, err := AddressingFigures(a, 0, 0, "x")
	if err != nil || len(figs) != 4 {
		t.Fatalf("AddressingFigures: %d figures, %v", len(figs), err)
	}
	if _, err := AddressingFigures(a, 1, 0, "x"); err == nil {
		t.Error("image out of range: want error")
	}
	if _, err := AddressingFigures(&Analysis{}, 0, 0, "x"); err == nil {
		t.Error("no memory: want error")
	}
	if List([]int{0, 1, 4}) != "[0,1,4]" {
		t.Error("List")
	}
}

// A backend notice is shown once per GoNB session (GONB_TMP_DIR), other
// lines always; without GONB_TMP_DIR every notice is shown.
func TestSessionNotices(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", t.TempDir())
	var out strings.Builder
	for range 2 { // two cells: two processes, one session
		w := sessionNotices{&out}
		fmt.Fprintln(w, "backend: using the pure-Go backend (slow): offline")
		fmt.Fprintln(w, "cifar: data not present")
	}
	fmt.Fprintln(sessionNotices{&out}, "backend: another notice")
	want := "backend: using the pure-Go backend (slow): offline\ncifar: data not present\ncifar: data not present\nbackend: another notice\n"
	if out.String() != want {
		t.Errorf("in a session:\n%s\nwant:\n%s", out.String(), want)
	}
	t.Setenv("GONB_TMP_DIR", "")
	out.Reset()
	for range 2 {
		fmt.Fprintln(sessionNotices{&out}, "backend: x")
	}
	if out.String() != "backend: x\nbackend: x\n" {
		t.Errorf("outside GoNB: %q", out.String())
	}
}

// TestExperimentsResultsDir: a notebook's own results_dir (in any spelling
// the command line accepts) replaces ResultsRoot, with the budget's folder
// below it as on the command line.
func TestExperimentsResultsDir(t *testing.T) {
	t.Setenv(ResultsEnv, t.TempDir())
	mine := t.TempDir()
	for _, arg := range []string{"results_dir=" + mine, "+results_dir=" + mine, " results_dir=" + mine} {
		exps, err := Experiments(Quick, []string{"experiment=smoke", arg}, nil)
		if err != nil {
			t.Errorf("%q: %v", arg, err)
			continue
		}
		if want := filepath.Join(mine, Quick); exps[0].ResultsDir != want {
			t.Errorf("%q: results_dir %s, want %s", arg, exps[0].ResultsDir, want)
		}
	}
}
