package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// console is the command's stderr. It tells package train whether it is a
// terminal (progress bars are drawn only there) and keeps every message off the
// bar's line: a write that is not a bar frame (frames start with '\r') first
// erases an unfinished bar line, and the bar redraws itself below the message.
type console struct {
	mu   sync.Mutex
	w    io.Writer
	term bool
	open bool // a bar frame is on the current line
}

func newConsole(w io.Writer) *console { return &console{w: w, term: train.IsTerminal(w)} }

// IsTerminal reports whether the console is a terminal.
func (c *console) IsTerminal() bool { return c.term }

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	if p[0] == '\r' {
		c.open = p[len(p)-1] != '\n'
		return c.w.Write(p)
	}
	if c.open && c.term {
		if _, err := io.WriteString(c.w, "\r\033[K"); err != nil {
			return 0, err
		}
	}
	c.open = false
	return c.w.Write(p)
}

// Nominal images per class (training, test) of each dataset: what -n and the
// job ETA assume without loading any data.
var nominalClassSize = map[string][2]int{
	"mnist":         {6000, 1000},
	"fashion-mnist": {6000, 1000},
	"cifar":         {5000, 1000},
}

// epochImages returns the nominal number of training and test images of one
// epoch of j: the targets' training images (or num_train_samples), and per
// target its test images plus the protocol's anomalies, capped by maxTest.
func epochImages(j job, maxTest int) (nTrain, nTest int) {
	size, ok := nominalClassSize[j.Experiment.Datamodule.Name]
	if !ok {
		size = nominalClassSize["mnist"]
	}
	nTrain = size[0] * len(j.Targets)
	if k := j.Experiment.Datamodule.NumTrainSamples; k > 0 {
		nTrain = min(k, nTrain)
	}
	frac := j.Experiment.Datamodule.AnomalyFraction
	if frac <= 0 || frac >= 1 {
		frac = data.DefaultAnomalyFraction
	}
	perTarget := size[1] + data.NumAnomalies(size[1], frac)
	if maxTest > 0 {
		perTarget = min(perTarget, maxTest)
	}
	return nTrain, perTarget * len(j.Targets)
}

// remainingEpochs is the number of epochs j still has to train: none for a
// complete run (its metrics.csv holds the last epoch, as for the driver, even
// without checkpoints: exported results), else max_epochs minus the epoch of
// its latest checkpoint.
func remainingEpochs(j job) int {
	if j.Complete() || unresumable(j) {
		return 0
	}
	done := 0
	if cp, ok, err := train.LatestCheckpoint(j.Dir); err == nil && ok {
		done = cp.Epoch
	}
	return max(0, j.Experiment.Trainer.MaxEpochs-done)
}

// unresumable reports a run that will not train: it is not complete, its
// metrics.csv holds trained epochs and it has no checkpoint to resume from
// (train.ErrMetricsWithoutCheckpoint).
func unresumable(j job) bool {
	if j.Complete() {
		return false
	}
	if _, ok, err := train.LatestCheckpoint(j.Dir); err != nil || ok {
		return false
	}
	rows, err := j.Metrics()
	return err == nil && slices.ContainsFunc(rows, func(r results.Row) bool { return r.Epoch > 0 })
}

// evalCostRatio is the cost of evaluating one image relative to training on
// one: evaluation runs about 3× as many images per second (README, bench).
const evalCostRatio = 0.3

// jobProgress tracks the whole job (all runs) for the progress bar and the
// epoch lines: run i of n and an ETA from the epochs finished so far, each
// weighted by its number of images.
type jobProgress struct {
	n, current  int       // runs, current run (0-based)
	along       []int     // runs trained along with the current one
	epochUnits  []float64 // work of one epoch of each run
	remaining   []int     // epochs left per run
	doneUnits   float64   // work finished in this invocation
	doneSeconds float64   // and the time it took
}

// newJobProgress plans the job's work: a run that shares an earlier run's
// training (a later run of its group, see experiment.Groups) costs only its
// evaluation.
func newJobProgress(jobs []job, maxTest int) *jobProgress {
	p := &jobProgress{n: len(jobs), epochUnits: make([]float64, len(jobs)), remaining: make([]int, len(jobs))}
	trainings := experiment.NewTrainings(jobs)
	for i, j := range jobs {
		nTrain, nTest := epochImages(j, maxTest)
		if trainings.First(i) != i {
			nTrain = 0
		}
		p.epochUnits[i] = float64(nTrain) + evalCostRatio*float64(nTest)
		p.remaining[i] = remainingEpochs(j)
	}
	return p
}

// startRun makes run i (0-based) the current one, with the runs along that
// share its training. Like every method of jobProgress it does nothing on a
// nil receiver (a runner without a job plan).
func (p *jobProgress) startRun(i int, along ...int) {
	if p != nil && i >= 0 && i < p.n {
		p.current, p.along = i, along
	}
}

// epochDone records a finished epoch of run i and its duration (a run
// trained along: its evaluation).
func (p *jobProgress) epochDone(i int, d time.Duration) {
	if p == nil || i < 0 || i >= p.n {
		return
	}
	p.doneUnits += p.epochUnits[i]
	p.doneSeconds += d.Seconds()
	if p.remaining[i] > 0 {
		p.remaining[i]--
	}
}

// eta is the estimated time to the end of the job, ok false before the first
// finished epoch.
func (p *jobProgress) eta() (time.Duration, bool) {
	if p == nil || p.doneUnits <= 0 {
		return 0, false
	}
	var left float64
	for i := p.current; i < p.n; i++ {
		left += float64(p.remaining[i]) * p.epochUnits[i]
	}
	return time.Duration(left / p.doneUnits * p.doneSeconds * float64(time.Second)), true
}

// label is the progress-bar prefix: "run 3/60 · ETA 5h10m ·", or
// "run 3+12/60 · …" for runs trained together.
func (p *jobProgress) label() string {
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("run %s/%d ·", p.runs(), p.n)
	if d, ok := p.eta(); ok {
		s += " ETA " + formatDuration(d) + " ·"
	}
	return s
}

// runs are the current run's number and those of the runs trained along.
func (p *jobProgress) runs() string {
	s := strconv.Itoa(p.current + 1)
	for _, i := range p.along {
		s += "+" + strconv.Itoa(i+1)
	}
	return s
}

// suffix is appended to every epoch line of run i: "  · run 3/60 · ETA 5h10m".
func (p *jobProgress) suffix(i int) string {
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("  · run %d/%d", i+1, p.n)
	if d, ok := p.eta(); ok {
		s += " · ETA " + formatDuration(d)
	}
	return s
}

// formatDuration rounds d for people: 45s, 12m, 5h10m, 2d3h.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(math.Round(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(math.Round(d.Minutes())))
	case d < 48*time.Hour:
		m := int(math.Round(d.Minutes()))
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	default:
		h := int(math.Round(d.Hours()))
		return fmt.Sprintf("%dd%dh", h/24, h%24)
	}
}

// estimateKey groups runs that train at the same speed.
type estimateKey struct {
	bench            string // bench model name: <arch> (MemAE) or <arch>-ae
	batch, evalBatch int
}

func (k estimateKey) String() string {
	kind := "MemAE"
	name := k.bench
	if a, ok := strings.CutSuffix(k.bench, "-ae"); ok {
		kind, name = "AE", a
	}
	return fmt.Sprintf("%s %s, batch %d", name, kind, k.batch)
}

// benchModel is the bench model whose measured speed prices run j, and how
// many copies of it j's model runs per image: a multi-ae with k conditions is
// k AEs, each fed every image (in training too), so k times an AE's time;
// every other model is one (an AE for ae and cond-ae, a MemAE for memae).
func benchModel(j job) (name string, copies int) {
	switch j.Experiment.Model.Name {
	case models.KindAE, models.KindCondAE:
		return j.Experiment.Model.Arch + "-ae", 1
	case models.KindMultiAE:
		return j.Experiment.Model.Arch + "-ae", j.Experiment.NumConditions(j.Targets)
	}
	return j.Experiment.Model.Arch, 1
}

// printEstimate prints the job's size and, with measure, its estimated
// duration on the active backend: every distinct model and batch size trains
// and evaluates for about a second (the bench command's measurement), and each
// run's remaining epochs are priced at its nominal number of images.
func (r *runner) printEstimate(ctx context.Context, jobs []job, measure bool) error {
	total, left, copied := 0, 0, 0
	keys := map[estimateKey][]int{}
	remaining := make([]int, len(jobs)) // per job (each reads its checkpoints once)
	for i, j := range jobs {
		total += j.Experiment.Trainer.MaxEpochs
		remaining[i] = remainingEpochs(j)
		if _, ok := r.driver.Twins.Of(j, r.opts.maxTestImages); ok {
			remaining[i] = 0
			copied++
		}
		left += remaining[i]
		name, _ := benchModel(j)
		k := estimateKey{bench: name, batch: j.Experiment.Datamodule.BatchSize, evalBatch: j.Experiment.Datamodule.TestBatchSize}
		keys[k] = append(keys[k], i)
	}
	trainings := experiment.NewTrainings(jobs)
	fmt.Fprintf(r.stdout, "%d run(s), %d of %d epochs to train", len(jobs), left, total)
	if n := trainings.Len(); n < len(jobs) {
		fmt.Fprintf(r.stdout, "; %d trainings (runs that differ only in how they are evaluated, e.g. conditional known and unknown, share one)", n)
	}
	if copied > 0 {
		fmt.Fprintf(r.stdout, "; %d run(s) copied from finished twins instead", copied)
	}
	fmt.Fprintln(r.stdout)
	if left == 0 || !measure {
		return nil
	}
	var b compute.Backend
	var err error
	if len(jobs) > 0 {
		if b, err = r.backend(jobs[0].Experiment.Trainer.Backend); err != nil {
			return err
		}
	}
	sorted := make([]estimateKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(a, c int) bool { return sorted[a].String() < sorted[c].String() })
	before := sampleCPU()
	var seconds float64
	var lines []string
	for _, k := range sorted {
		res, err := benchGo(ctx, b, k.bench, benchOptions{batch: k.batch, evalBatch: k.evalBatch, seconds: 1})
		if err != nil {
			return fmt.Errorf("estimating the duration (-n -estimate=false skips it): %w", err)
		}
		var part float64
		multi := map[int]int{} // AEs per image → multi-ae runs
		for _, i := range keys[k] {
			_, copies := benchModel(jobs[i])
			if copies > 1 {
				multi[copies]++
			}
			nTrain, nTest := epochImages(jobs[i], r.opts.maxTestImages)
			if trainings.First(i) != i { // priced at its evaluation: it shares an earlier run's training
				nTrain = 0
			}
			epoch := float64(copies) * (float64(nTrain)/res.TrainIPS + float64(nTest)/res.EvalIPS)
			if n := remaining[i]; n > 0 {
				part += float64(n)*epoch + res.WarmupS
			}
		}
		seconds += part
		line := fmt.Sprintf("  %s: %.0f train img/s, %.0f eval img/s → %s for %d run(s)",
			k, res.TrainIPS, res.EvalIPS, formatDuration(time.Duration(part*float64(time.Second))), len(keys[k]))
		for _, copies := range slices.Sorted(maps.Keys(multi)) {
			line += fmt.Sprintf(" (%d of them multi-ae: %d AEs per image)", multi[copies], copies)
		}
		lines = append(lines, line)
	}
	fmt.Fprintf(r.stdout, "estimated duration on %s: %s (measured just now; images per epoch from the datasets' nominal class sizes)\n",
		b.Name(), formatDuration(time.Duration(seconds*float64(time.Second))))
	for _, l := range lines {
		fmt.Fprintln(r.stdout, l)
	}
	if others, ok := othersCores(before, sampleCPU()); ok {
		if note := busyNote(others, runtime.NumCPU()); note != "" {
			fmt.Fprintln(r.stdout, note)
		}
	}
	return nil
}

// cpuSample is the CPU time the whole machine and this process had used at
// one moment.
type cpuSample struct {
	at        time.Time
	busy, own time.Duration // all cores' non-idle time; this process's user + system time
	ok        bool          // false where they cannot be read (outside Linux)
}

// sampleCPU reads a cpuSample (a variable, so that tests can stand in).
var sampleCPU = readCPUSample

// othersCores is how many cores other processes kept busy on average between
// two samples: the machine's busy time less this process's, over the time
// between them.
func othersCores(a, b cpuSample) (float64, bool) {
	wall := b.at.Sub(a.at)
	if !a.ok || !b.ok || wall <= 0 {
		return 0, false
	}
	others := (b.busy - a.busy) - (b.own - a.own)
	return max(0, others.Seconds()/wall.Seconds()), true
}

// busyNote warns that an estimate was measured while other processes kept
// some of the machine's cores busy (at least a quarter of them, and half a
// core): the measurement shared the cores, and training will share them only
// if they stay busy.
func busyNote(others float64, cpus int) string {
	if cpus <= 0 || others < max(0.5, 0.25*float64(cpus)) {
		return ""
	}
	return fmt.Sprintf("note: other processes kept %.1f of the %d cores busy while this was measured; "+
		"on idle cores training runs faster than this estimate.", others, cpus)
}
