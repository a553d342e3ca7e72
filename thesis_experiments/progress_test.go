package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/models"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		44*time.Second + 600*time.Millisecond:        "45s",
		12*time.Minute + 20*time.Second:              "12m",
		5*time.Hour + 9*time.Minute + 40*time.Second: "5h10m",
		50 * time.Hour: "2d2h",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func testJob(targets []int, k, epochs int, dir string) job {
	e := config.Experiment{Datamodule: config.DataConfig{Name: "mnist", NumTrainSamples: k, AnomalyFraction: 0.3},
		Trainer: config.TrainerConfig{MaxEpochs: epochs}}
	return job{Experiment: e, Targets: targets, Dir: dir}
}

func TestEpochImages(t *testing.T) {
	// MNIST nominal: 6000 training and 1000 test images per class; 1000 normals
	// get int(1000·0.3/0.7) = 428 anomalies.
	for _, c := range []struct {
		targets             []int
		k, maxTest          int
		wantTrain, wantTest int
	}{
		{[]int{1}, 0, 0, 6000, 1428},
		{[]int{1, 7}, 0, 0, 12000, 2856},
		{[]int{5}, 64, 300, 64, 300},
	} {
		nTrain, nTest := epochImages(testJob(c.targets, c.k, 1, ""), c.maxTest)
		if nTrain != c.wantTrain || nTest != c.wantTest {
			t.Errorf("epochImages(%v, k=%d, max %d) = %d, %d; want %d, %d", c.targets, c.k, c.maxTest, nTrain, nTest, c.wantTrain, c.wantTest)
		}
	}
}

// The job ETA weights epochs by their images: after one 10 s epoch of a
// 6000-image run (6000 + 0.3·1428 = 6428.4 units), the rest of the job is
// 9 such epochs plus 10 epochs of a 64-shot run (64 + 0.3·1428 = 492.4 units).
func TestJobProgressETA(t *testing.T) {
	dir := t.TempDir()
	jobs := []job{testJob([]int{1}, 0, 10, filepath.Join(dir, "a")), testJob([]int{2}, 64, 10, filepath.Join(dir, "b"))}
	p := newJobProgress(jobs, 0)
	p.startRun(0)
	if got := p.label(); got != "run 1/2 ·" {
		t.Errorf("label before any epoch = %q", got)
	}
	p.epochDone(0, 10*time.Second)
	units := (9*6428.4 + 10*492.4) / 6428.4 // 15.19…: about 97.7 s at 10 s per 6428.4 units
	want := time.Duration(units * 10 * float64(time.Second))
	if d, ok := p.eta(); !ok || d.Round(time.Millisecond) != want.Round(time.Millisecond) {
		t.Errorf("eta = %v, %v; want %v", d, ok, want)
	}
	if got := p.label(); got != "run 1/2 · ETA 2m ·" {
		t.Errorf("label = %q", got)
	}
	if got := p.suffix(0); got != "  · run 1/2 · ETA 2m" {
		t.Errorf("suffix = %q", got)
	}
	var none *jobProgress // a runner without a job plan
	none.startRun(3)
	none.epochDone(3, time.Second)
	if none.label() != "" || none.suffix(3) != "" {
		t.Errorf("nil jobProgress: label %q, suffix %q", none.label(), none.suffix(3))
	}
}

// Runs that share a training: the later one costs only its evaluation
// (0.3·2856 units per epoch of a digit pair, against 12000 + 0.3·2856 for
// the run that trains), and the bar names both runs.
func TestJobProgressAlong(t *testing.T) {
	exps, err := experiment.Parse("experiment=conditional_mnist", "model=memae", "seed=1", "datamodule.targets=[[0,1]]",
		"trainer.max_epochs=10", "results_dir="+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jobs := planJobs(exps)
	p := newJobProgress(jobs, 0)
	if len(jobs) != 2 || p.epochUnits[0] != 12000+0.3*2856 || p.epochUnits[1] != 0.3*2856 {
		t.Fatalf("%d runs, epoch units %v; want 2: [%v %v]", len(jobs), p.epochUnits, 12000+0.3*2856, 0.3*2856)
	}
	p.startRun(0, 1)
	p.epochDone(0, 9*time.Second)
	p.epochDone(1, time.Second)
	// 10 s for 12856.8 units; left: 9 epochs of both, 9 × 12856.8 units.
	if d, ok := p.eta(); !ok || d.Round(time.Millisecond) != 90*time.Second {
		t.Errorf("eta = %v, %v; want 1m30s", d, ok)
	}
	if got := p.label(); got != "run 1+2/2 · ETA 2m ·" {
		t.Errorf("label = %q", got)
	}
	if got := p.suffix(1); got != "  · run 2/2 · ETA 2m" {
		t.Errorf("suffix of the run trained along = %q", got)
	}
}

// A run with a "last" checkpoint of epoch 2 has max_epochs − 2 epochs left.
func TestRemainingEpochs(t *testing.T) {
	dir := t.TempDir()
	last := filepath.Join(dir, "checkpoints", "last")
	if err := os.MkdirAll(last, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(last, "state.json"), []byte(`{"format":1,"epoch":2,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := remainingEpochs(testJob([]int{1}, 0, 5, dir)); n != 3 {
		t.Errorf("remaining epochs %d, want 3", n)
	}
	if n := remainingEpochs(testJob([]int{1}, 0, 5, filepath.Join(dir, "none"))); n != 5 {
		t.Errorf("remaining epochs of a new run %d, want 5", n)
	}
}

// The estimate prices a multi-ae run as one AE per condition (each sees
// every image: measured here on the conditional pairs, 16 s per epoch and core
// against the conditional AE's 7) and every other model as one bench model.
func TestBenchModel(t *testing.T) {
	for _, c := range []struct {
		model, arch string
		cond        models.Conditional
		targets     []int
		want        string
		copies      int
	}{
		{"memae", "mnist-flat", models.CondNone, []int{3}, "mnist-flat", 1},
		{"memae", "mnist", models.CondKnown, []int{1, 7}, "mnist", 1},
		{"ae", "mnist", models.CondNone, []int{3}, "mnist-ae", 1},
		{"cond-ae", "mnist-flat", models.CondUnknown, []int{4, 5}, "mnist-flat-ae", 1},
		{"multi-ae", "mnist-flat", models.CondKnown, []int{1, 7}, "mnist-flat-ae", 2},
		{"multi-ae", "cifar-flat", models.CondUnknown, []int{0, 1, 2}, "cifar-flat-ae", 3},
	} {
		j := job{Experiment: config.Experiment{Model: config.ModelConfig{Name: c.model, Arch: c.arch}, Conditional: c.cond}, Targets: c.targets}
		if name, copies := benchModel(j); name != c.want || copies != c.copies {
			t.Errorf("benchModel(%s %s %s %v) = %s ×%d, want %s ×%d", c.model, c.arch, c.cond, c.targets, name, copies, c.want, c.copies)
		}
	}
}

// -n prints the number of runs, the epochs left and a measured estimate.
func TestDryRunEstimate(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	out, err := runCmd(t, context.Background(), "-n", "datamodule.targets=[1,2]", "trainer.max_epochs=3",
		"datamodule.batch_size=8", "datamodule.test_batch_size=16", "model=ae", "results_dir="+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^run 2/2: .* epochs=3 → `,
		`(?m)^2 run\(s\), 6 of 6 epochs to train$`,
		`(?m)^estimated duration on .+: [0-9]+(s|m|h[0-9]{2}m) \(measured just now; `,
		`(?m)^  mnist-flat AE, batch 8: [0-9]+ train img/s, [0-9]+ eval img/s → .* for 2 run\(s\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("-n output lacks %s:\n%s", re, out)
		}
	}
}

// busyNote warns from a quarter of the cores (and half a core) kept busy
// by other processes on, and names both numbers.
func TestBusyNote(t *testing.T) {
	for _, c := range []struct {
		others float64
		cpus   int
		want   string
	}{
		{0.1, 2, ""},
		{0.49, 2, ""},
		{0.5, 2, "kept 0.5 of the 2 cores busy"},
		{1.96, 2, "kept 2.0 of the 2 cores busy"},
		{3.9, 16, ""},
		{4, 16, "kept 4.0 of the 16 cores busy"},
		{3, 0, ""},
	} {
		got := busyNote(c.others, c.cpus)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("busyNote(%v, %d) = %q, want one containing %q", c.others, c.cpus, got, c.want)
		}
	}
}

// othersCores subtracts this process's CPU time from the machine's.
func TestOthersCores(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := cpuSample{at: t0, busy: 10 * time.Second, own: 2 * time.Second, ok: true}
	b := cpuSample{at: t0.Add(2 * time.Second), busy: 14 * time.Second, own: 3 * time.Second, ok: true}
	// 4 s busy in 2 s, 1 s of it ours: others kept 1.5 cores busy.
	if got, ok := othersCores(a, b); !ok || math.Abs(got-1.5) > 1e-12 {
		t.Errorf("othersCores = %v, %v; want 1.5", got, ok)
	}
	if _, ok := othersCores(a, cpuSample{}); ok {
		t.Error("othersCores of an unreadable sample: want ok = false")
	}
	if _, ok := othersCores(a, a); ok {
		t.Error("othersCores over no time: want ok = false")
	}
}

// -n notes a measurement on a busy machine, and only then.
func TestDryRunBusyNote(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	old := sampleCPU
	defer func() { sampleCPU = old }()
	for _, busy := range []bool{true, false} {
		start := time.Now()
		calls := 0
		sampleCPU = func() cpuSample {
			calls++
			s := cpuSample{at: start.Add(time.Duration(calls) * 10 * time.Second), ok: true}
			if busy {
				s.busy = time.Duration(calls) * time.Duration(runtime.NumCPU()) * 10 * time.Second // every core busy
			}
			return s
		}
		out, err := runCmd(t, context.Background(), "-n", "datamodule.targets=[1]", "trainer.max_epochs=1",
			"datamodule.batch_size=8", "datamodule.test_batch_size=16", "model=ae", "results_dir="+t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out, "note: other processes kept"); got != busy || calls != 2 {
			t.Errorf("busy %v: note printed %v (%d samples):\n%s", busy, got, calls, out)
		}
	}
}

// Messages never share a line with a progress bar on a terminal; nothing is
// added when the console is not a terminal.
func TestConsole(t *testing.T) {
	var buf bytes.Buffer
	c := &console{w: &buf, term: true}
	c.Write([]byte("\repoch 1/2 [====>    ]"))
	c.Write([]byte("stopping\n"))
	c.Write([]byte("\repoch 1/2 [=====>   ]"))
	c.Write([]byte("\r          \r"))
	c.Write([]byte("error: x\n"))
	want := "\repoch 1/2 [====>    ]\r\033[Kstopping\n\repoch 1/2 [=====>   ]\r          \r\r\033[Kerror: x\n"
	if buf.String() != want {
		t.Errorf("terminal console wrote %q, want %q", buf.String(), want)
	}
	buf.Reset()
	c = &console{w: &buf}
	c.Write([]byte("a\n"))
	c.Write([]byte("\rframe"))
	c.Write([]byte("b\n"))
	if buf.String() != "a\n\rframeb\n" || c.IsTerminal() {
		t.Errorf("log console wrote %q", buf.String())
	}
}

func TestIsGoRunPath(t *testing.T) {
	if !isGoRunPath("/tmp/go-build1234/b001/exe/thesis_experiments") {
		t.Error("go run binary not recognised")
	}
	for _, p := range []string{"/home/u/cmemae/cmemae", "/usr/local/bin/thesis_experiments", "/tmp/exe/x"} {
		if isGoRunPath(p) {
			t.Errorf("%s taken for a go run binary", p)
		}
	}
}
