package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/train"
)

// torchReference is a copy of ../shared/bench/torch_reference.py, used when
// no other script is found (fresh clones).
//
//go:embed bench/torch_reference.py
var torchReference []byte

// benchModels are the benchmark's model names, as torch_reference.py spells
// them: an architecture, MemAE by default, "-ae" for the plain autoencoder.
var benchModels = []string{"mnist-flat", "mnist-flat-ae", "mnist", "mnist-ae", "cifar-flat", "cifar-flat-ae", "cifar", "cifar-ae"}

const benchUsage = `Usage: go run ./thesis_experiments bench [models...] [flags]

Measures training and evaluation throughput (images/s) of the thesis models on
the active GoMLX backend, with the training step used by package train (Adam,
MSE + entropy loss, batch-norm in training mode) on random images, and, when
Debian's PyTorch is installed (/usr/bin/python3 -c 'import torch'), runs the
PyTorch reference script on the same models in the same invocation and prints
the ratio Go/PyTorch.

Models: %s (default: all).
"-ae" is the plain autoencoder, otherwise MemAE with the thesis defaults.

Flags:
`

type benchOptions struct {
	batch, evalBatch, threads int
	learningRate              float64 // the thesis's default (model.learning_rate)
	seconds, evalSeconds      float64
	torch, backendName        string
	python, device            string
	json                      bool
}

// benchResult is one measurement (Go or PyTorch).
type benchResult struct {
	Framework   string  `json:"framework"`
	Model       string  `json:"model"`
	Batch       int     `json:"batch"`
	TrainIPS    float64 `json:"train_img_per_s"`
	EvalIPS     float64 `json:"eval_img_per_s"`
	WarmupS     float64 `json:"warmup_s,omitempty"`
	RSSMiB      float64 `json:"rss_mib,omitempty"`
	TrainSteps  int     `json:"train_steps,omitempty"`
	Description string  `json:"-"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOptions
	fset := flag.NewFlagSet("bench", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	help := fset.Bool("h", false, "this help")
	// The thesis's defaults of the configuration (batch sizes, learning rate).
	defaults, err := (&config.Parser{}).Parse()
	if err != nil {
		return err
	}
	def := defaults[0]
	o.learningRate = def.Model.LearningRate
	fset.IntVar(&o.batch, "batch", def.Datamodule.BatchSize, "training batch size")
	fset.IntVar(&o.evalBatch, "eval-batch", def.Datamodule.TestBatchSize, "evaluation batch size")
	fset.Float64Var(&o.seconds, "seconds", 5, "seconds of timed training per model (evaluation: 0.6×)")
	fset.IntVar(&o.threads, "threads", runtime.NumCPU(), "PyTorch threads")
	fset.StringVar(&o.torch, "torch", "", `PyTorch reference script ("" = find ../shared/bench/torch_reference.py or use the built-in copy; "off" = skip)`)
	fset.StringVar(&o.backendName, "backend", "", `GoMLX backend ("" = $GOMLX_BACKEND, else XLA if usable, else go)`)
	fset.StringVar(&o.python, "python", "/usr/bin/python3", "Python interpreter with torch")
	fset.StringVar(&o.device, "device", "cpu", `PyTorch device: "cpu", "cuda" or "cuda:N"`)
	fset.BoolVar(&o.json, "json", false, "print one JSON line per measurement instead of the table")
	names, err := parseFlags("bench", args, fset)
	if err != nil {
		return err
	}
	if *help {
		fmt.Fprintf(stdout, benchUsage, strings.Join(benchModels, ", "))
		fset.SetOutput(stdout)
		fset.PrintDefaults()
		return nil
	}
	if len(names) == 0 || slices.Contains(names, "all") {
		names = benchModels
	}
	for _, n := range names {
		if !slices.Contains(benchModels, n) {
			msg := fmt.Errorf("bench: unknown model %q (valid: %s)", n, strings.Join(benchModels, ", "))
			return usageError{msg}
		}
	}
	if o.batch < 1 || o.evalBatch < 1 || !(o.seconds > 0) {
		return usageError{errors.New("bench: -batch, -eval-batch and -seconds must be positive")}
	}
	if !validTorchDevice(o.device) {
		return usageError{fmt.Errorf(`bench: -device %q: want "cpu", "cuda" or "cuda:N"`, o.device)}
	}

	b, notice, err := backend.New(o.backendName)
	if err != nil {
		return usageError{fmt.Errorf("bench: %w", err)}
	}
	if notice != "" {
		fmt.Fprintln(stderr, notice)
	}
	script, cleanup, torchErr := findTorch(o)
	defer cleanup()
	if torchErr != nil {
		fmt.Fprintf(stderr, "bench: no PyTorch comparison: %v\n", torchErr)
	}

	info := stdout
	if o.json {
		info = stderr
	}
	fmt.Fprintf(info, "machine: %s, %d CPUs (GOMAXPROCS %d), %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(info, "backend: %s — %s\n", b.Name(), b.Description())
	var goRes, torchRes []*benchResult
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		fmt.Fprintf(stderr, "bench: %s on %s (batch %d)…\n", name, b.Name(), o.batch)
		r, err := benchGo(ctx, b, name, o)
		if err != nil {
			return err
		}
		goRes = append(goRes, r)
		var tr *benchResult
		if script != "" {
			fmt.Fprintf(stderr, "bench: %s on PyTorch…\n", name)
			if tr, err = benchTorch(ctx, o, script, name); err != nil {
				fmt.Fprintf(stderr, "bench: PyTorch %s: %v\n", name, err)
			}
		}
		torchRes = append(torchRes, tr)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		for i, g := range goRes {
			if err := enc.Encode(g); err != nil {
				return err
			}
			if torchRes[i] != nil {
				if err := enc.Encode(torchRes[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	printBenchTable(stdout, goRes, torchRes)
	return nil
}

// benchGo measures one model on backend b.
func benchGo(ctx context.Context, b compute.Backend, name string, o benchOptions) (res *benchResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bench %s: %v", name, p)
		}
	}()
	arch, kind := strings.TrimSuffix(name, "-ae"), models.KindMemAE
	if strings.HasSuffix(name, "-ae") {
		kind = models.KindAE
	}
	m, err := models.New(models.DefaultConfig(arch, kind))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := m.InitializeVariables(b, store); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	// Exactly the training step of package train.
	trainExec, err := model.NewExec(b, store, train.StepGraph(m, o.learningRate, models.CondNone))
	if err != nil {
		return nil, fmt.Errorf("bench %s: building the training graph: %w", name, err)
	}
	evalExec, err := model.NewExec(b, store, func(scope *model.Scope, x, cond *graph.Node) *graph.Node {
		return m.Forward(scope, x, cond, models.CondNone).PerImageErr
	})
	if err != nil {
		return nil, fmt.Errorf("bench %s: building the evaluation graph: %w", name, err)
	}
	h, w, c := m.InputShape()
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(n int) *tensors.Tensor {
		v := make([]float32, n*h*w*c)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, n, h, w, c)
	}
	batches := make([]*tensors.Tensor, 8)
	for i := range batches {
		batches[i] = randn(o.batch)
	}
	cond := tensors.FromShape(shapes.Make(dtypes.Int32, o.batch))
	step := func(i int) error {
		out, err := trainExec.Call(batches[i%len(batches)], cond)
		if err != nil {
			return fmt.Errorf("bench %s: training step: %w", name, err)
		}
		for _, t := range out {
			t.MustFinalizeAll()
		}
		return nil
	}
	t0 := time.Now()
	for i := range 2 { // compilation and first runs
		if err := step(i); err != nil {
			return nil, err
		}
	}
	res = &benchResult{Framework: "gomlx " + b.Name(), Model: name, Batch: o.batch, WarmupS: time.Since(t0).Seconds()}
	n := 0
	t0 = time.Now()
	for time.Since(t0).Seconds() < o.seconds || n < 3 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		if err := step(n); err != nil {
			return nil, err
		}
		n++
	}
	res.TrainIPS = float64(n*o.batch) / time.Since(t0).Seconds()
	res.TrainSteps = n
	res.RSSMiB = rssMiB()

	ev := randn(o.evalBatch)
	evCond := tensors.FromShape(shapes.Make(dtypes.Int32, o.evalBatch))
	evalOnce := func() error {
		out, err := evalExec.Call(ev, evCond)
		if err != nil {
			return fmt.Errorf("bench %s: evaluation: %w", name, err)
		}
		for _, t := range out {
			t.MustFinalizeAll()
		}
		return nil
	}
	if err := evalOnce(); err != nil {
		return nil, err
	}
	k := 0
	t0 = time.Now()
	for time.Since(t0).Seconds() < 0.6*o.seconds || k < 2 {
		if err := evalOnce(); err != nil {
			return nil, err
		}
		k++
	}
	res.EvalIPS = float64(k*o.evalBatch) / time.Since(t0).Seconds()
	trainExec.Finalize()
	evalExec.Finalize()
	return res, nil
}

// findTorch returns the PyTorch reference script to run, or an error saying
// why there is no comparison.
func findTorch(o benchOptions) (script string, cleanup func(), err error) {
	cleanup = func() {}
	if o.torch == "off" {
		return "", cleanup, errors.New("-torch off")
	}
	if out, err := exec.Command(o.python, "-c", "import torch").CombinedOutput(); err != nil {
		return "", cleanup, fmt.Errorf("%s -c 'import torch' failed (install Debian's python3-torch): %v %s", o.python, err, strings.TrimSpace(lastLine(string(out))))
	}
	if o.torch != "" {
		if _, err := os.Stat(o.torch); err != nil {
			return "", cleanup, fmt.Errorf("-torch: %w", err)
		}
		return o.torch, cleanup, nil
	}
	for _, dir := range candidateDirs() {
		p := filepath.Join(dir, "shared", "bench", "torch_reference.py")
		if _, err := os.Stat(p); err == nil {
			return p, cleanup, nil
		}
	}
	f, err := os.CreateTemp("", "torch_reference*.py")
	if err != nil {
		return "", cleanup, err
	}
	defer f.Close()
	if _, err := f.Write(torchReference); err != nil {
		os.Remove(f.Name())
		return "", cleanup, err
	}
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// candidateDirs are the parents of the repository root (where go.mod is,
// searching up from the working directory) and of the working directory:
// ../shared/bench is looked for beside the repository.
func candidateDirs() []string {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	var dirs []string
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dirs = append(dirs, filepath.Dir(d))
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return append(dirs, filepath.Dir(wd))
}

// benchTorch runs the PyTorch script for one model.
func benchTorch(ctx context.Context, o benchOptions, script, name string) (*benchResult, error) {
	cmd := exec.CommandContext(ctx, o.python, script, name, fmt.Sprint(o.batch), fmt.Sprint(o.threads), o.device, fmt.Sprint(o.seconds))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", script, err, lastLine(stderr.String()))
	}
	var r benchResult
	if err := json.Unmarshal([]byte(lastLine(string(out))), &r); err != nil {
		return nil, fmt.Errorf("%s: reading its output %q: %w", script, lastLine(string(out)), err)
	}
	return &r, nil
}

// validTorchDevice reports whether d is a PyTorch device the reference script
// accepts: cpu, cuda or cuda:N.
func validTorchDevice(d string) bool {
	if d == "cpu" || d == "cuda" {
		return true
	}
	n, ok := strings.CutPrefix(d, "cuda:")
	if !ok || n == "" {
		return false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func printBenchTable(w io.Writer, goRes, torchRes []*benchResult) {
	torchVersion := ""
	for _, t := range torchRes {
		if t != nil {
			torchVersion = t.Framework
		}
	}
	if torchVersion != "" {
		fmt.Fprintf(w, "reference: %s\n", torchVersion)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tbatch\tGo train img/s\tPyTorch train img/s\tratio\tGo eval img/s\tPyTorch eval img/s\tratio\twarm-up s\tprocess RSS MiB\t")
	for i, g := range goRes {
		t := torchRes[i]
		pt, rt, pe, re := "-", "-", "-", "-"
		if t != nil {
			pt, pe = fmt.Sprintf("%.1f", t.TrainIPS), fmt.Sprintf("%.1f", t.EvalIPS)
			if t.TrainIPS > 0 {
				rt = fmt.Sprintf("%.2f", g.TrainIPS/t.TrainIPS)
			}
			if t.EvalIPS > 0 {
				re = fmt.Sprintf("%.2f", g.EvalIPS/t.EvalIPS)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%.1f\t%s\t%s\t%.1f\t%.0f\t\n", g.Model, g.Batch, g.TrainIPS, pt, rt, g.EvalIPS, pe, re, g.WarmupS, g.RSSMiB)
	}
	tw.Flush()
}

// cpuModel is the CPU's model name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// rssMiB is the resident memory of this process in MiB (Linux), or 0.
func rssMiB() float64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(raw), &size, &resident); err != nil {
		return 0
	}
	return float64(resident*int64(os.Getpagesize())) / (1 << 20)
}
