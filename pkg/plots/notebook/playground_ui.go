package notebook

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"

	"github.com/cmemae/cmemae/pkg/plots"
)

// WidgetIdleEnv sets how long (seconds) the playground keeps listening for
// clicks after the last one; default 300.
const WidgetIdleEnv = "CMEMAE_WIDGET_IDLE"

// PlaygroundChoices are the values the playground's widgets offer.
type PlaygroundChoices struct {
	MemorySizes      []int
	ShrinkThresholds []float64
	EntropyWeights   []float64
	TrainImages      []int
	BatchSizes       []int
	MaxEpochs        int // the epochs slider goes from 1 to MaxEpochs
}

// DefaultPlaygroundChoices span the thesis's values and the ones its sweeps
// tried: N from 1 to 500 items, λ from 0 (no shrinkage) to 0.1 (above the
// uniform weight 1/N of N ≥ 10 items, so most addressing weights are cut),
// entropy weights from 0 to 0.02 (100× the thesis's); batches of 16 to 64 (the
// thesis's).
var DefaultPlaygroundChoices = PlaygroundChoices{
	MemorySizes:      []int{1, 2, 5, 10, 20, 50, 100, 500},
	ShrinkThresholds: []float64{0, 0.001, 0.0025, 0.01, 0.02, 0.05, 0.1},
	EntropyWeights:   []float64{0, 0.0002, 0.002, 0.02},
	TrainImages:      []int{100, 200, 400, 1000, 2000, 5000},
	BatchSizes:       []int{16, 32, 64},
	MaxEpochs:        20,
}

// PlaygroundIndices are the widget positions: option indices of the selects
// and the epochs slider's value.
type PlaygroundIndices struct {
	Digit, Memory, Shrink, Entropy, Images, Batch int
	Epochs                                        int // slider value = epochs
}

// Settings maps widget positions to settings; an index out of range is an
// error naming the widget.
func (c PlaygroundChoices) Settings(ix PlaygroundIndices) (PlaygroundSettings, error) {
	pick := func(what string, i, n int) error {
		if i < 0 || i >= n {
			return fmt.Errorf("playground: %s option %d out of range (%d options)", what, i, n)
		}
		return nil
	}
	if err := errors.Join(pick("digit", ix.Digit, 10), pick("memory size", ix.Memory, len(c.MemorySizes)),
		pick("shrinkage threshold", ix.Shrink, len(c.ShrinkThresholds)), pick("entropy weight", ix.Entropy, len(c.EntropyWeights)),
		pick("training images", ix.Images, len(c.TrainImages)), pick("batch size", ix.Batch, len(c.BatchSizes))); err != nil {
		return PlaygroundSettings{}, err
	}
	if ix.Epochs < 1 || ix.Epochs > c.MaxEpochs {
		return PlaygroundSettings{}, fmt.Errorf("playground: epochs slider at %d, outside 1..%d", ix.Epochs, c.MaxEpochs)
	}
	s := PlaygroundSettings{
		Digit: ix.Digit, MemorySize: c.MemorySizes[ix.Memory], ShrinkThreshold: c.ShrinkThresholds[ix.Shrink],
		EntropyWeight: c.EntropyWeights[ix.Entropy], Epochs: ix.Epochs, TrainImages: c.TrainImages[ix.Images],
		BatchSize: c.BatchSizes[ix.Batch],
	}
	return s, s.Validate()
}

// Indices returns the widget positions showing s; a value not among the
// choices is an error naming it and the values offered.
func (c PlaygroundChoices) Indices(s PlaygroundSettings) (PlaygroundIndices, error) {
	ix := PlaygroundIndices{Digit: s.Digit, Epochs: s.Epochs,
		Memory: slices.Index(c.MemorySizes, s.MemorySize), Shrink: slices.Index(c.ShrinkThresholds, s.ShrinkThreshold),
		Entropy: slices.Index(c.EntropyWeights, s.EntropyWeight), Images: slices.Index(c.TrainImages, s.TrainImages), Batch: slices.Index(c.BatchSizes, s.BatchSize)}
	var errs []error
	if ix.Memory < 0 {
		errs = append(errs, fmt.Errorf("memory size %d is not one of %v", s.MemorySize, c.MemorySizes))
	}
	if ix.Shrink < 0 {
		errs = append(errs, fmt.Errorf("shrinkage threshold %g is not one of %v", s.ShrinkThreshold, c.ShrinkThresholds))
	}
	if ix.Entropy < 0 {
		errs = append(errs, fmt.Errorf("entropy weight %g is not one of %v", s.EntropyWeight, c.EntropyWeights))
	}
	if ix.Images < 0 {
		errs = append(errs, fmt.Errorf("training images %d is not one of %v", s.TrainImages, c.TrainImages))
	}
	if ix.Batch < 0 {
		errs = append(errs, fmt.Errorf("batch size %d is not one of %v", s.BatchSize, c.BatchSizes))
	}
	if s.Digit < 0 || s.Digit > 9 {
		errs = append(errs, fmt.Errorf("digit %d is not 0–9", s.Digit))
	}
	if s.Epochs < 1 || s.Epochs > c.MaxEpochs {
		errs = append(errs, fmt.Errorf("%d epochs is outside the slider's 1..%d", s.Epochs, c.MaxEpochs))
	}
	if len(errs) > 0 {
		return ix, fmt.Errorf("playground: default settings: %w", errors.Join(errs...))
	}
	return ix, nil
}

// labels formats values as option labels, marking the thesis's value.
func labels[T int | float64](vals []T, thesis T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = fmt.Sprint(v)
		if v == thesis {
			out[i] += " (thesis)"
		}
	}
	return out
}

// playgroundWidgets are the live widgets of a playground cell.
type playgroundWidgets struct {
	choices                                      PlaygroundChoices
	digit, memory, shrink, entropy, imags, batch *widgets.SelectBuilder
	epochs                                       *widgets.SliderBuilder
	train, stop                                  *widgets.ButtonBuilder
}

func (w *playgroundWidgets) settings() (PlaygroundSettings, error) {
	return w.choices.Settings(PlaygroundIndices{Digit: w.digit.Value(), Memory: w.memory.Value(), Shrink: w.shrink.Value(),
		Entropy: w.entropy.Value(), Images: w.imags.Value(), Batch: w.batch.Value(), Epochs: w.epochs.Value()})
}

// playgroundView is the cell's output: controls, status line, AUROC curve and
// reconstructions, each an updatable block.
type playgroundView struct {
	controls, status, curve, recon string // display ids
	slot                           map[string]string
	epochsValue                    string // HTML id of the epochs slider's read-out
}

func newPlaygroundView() *playgroundView {
	u := gonbui.UniqueID()
	v := &playgroundView{controls: "cmemae-pg-controls-" + u, status: "cmemae-pg-status-" + u,
		curve: "cmemae-pg-curve-" + u, recon: "cmemae-pg-recon-" + u, slot: map[string]string{}, epochsValue: "cmemae-pg-epochs-value-" + u}
	for _, k := range []string{"digit", "memory", "shrink", "entropy", "epochs", "images", "batch", "buttons"} {
		v.slot[k] = "cmemae-pg-" + k + "-" + u
	}
	return v
}

// showControls draws the table the widgets are appended to.
func (v *playgroundView) showControls(def PlaygroundSettings) {
	row := func(label, key, extra string) string {
		return fmt.Sprintf(`<tr><td style="text-align:right;padding:2px 8px">%s</td><td style="text-align:left" id="%s">%s</td></tr>`,
			html.EscapeString(label), v.slot[key], extra)
	}
	gonbui.UpdateHTML(v.controls, `<table style="border-collapse:collapse">`+
		row("normal digit", "digit", "")+row("memory items N", "memory", "")+
		row("shrinkage threshold λ", "shrink", "")+row("entropy loss weight", "entropy", "")+
		row("epochs", "epochs", fmt.Sprintf(`<b id="%s">%d</b> `, v.epochsValue, def.Epochs))+
		row("training images", "images", "")+row("batch size", "batch", "")+row("", "buttons", "")+`</table>`)
	gonbui.Sync()
}

func (v *playgroundView) setControls(htmlText string) {
	gonbui.UpdateHTML(v.controls, htmlText)
	gonbui.Sync()
}

func (v *playgroundView) setStatus(text string) {
	gonbui.UpdateHTML(v.status, `<div style="font-family:monospace">`+html.EscapeString(text)+`</div>`)
	gonbui.Sync()
}

// show draws a snapshot: status, curve, reconstructions.
func (v *playgroundView) show(p *Playground, s *PlaygroundSnapshot) error {
	v.setStatus(s.Status())
	f, err := p.CurveFigure(s.Run)
	if err != nil {
		return err
	}
	if err := plots.DisplayUpdatable(v.curve, f); err != nil {
		return err
	}
	if f, err = ReconFigure(s); err != nil {
		return err
	}
	return plots.DisplayUpdatable(v.recon, f)
}

// buildWidgets creates the widgets in the view's slots. Each widget's Done
// waits for the front-end's first message, so without a front-end (headless
// execution) this never returns: call it in a goroutine.
func (v *playgroundView) buildWidgets(c PlaygroundChoices, ix PlaygroundIndices) *playgroundWidgets {
	digits := make([]string, 10)
	for i := range digits {
		digits[i] = strconv.Itoa(i)
	}
	w := &playgroundWidgets{choices: c}
	w.digit = widgets.Select(digits).SetDefault(ix.Digit).AppendTo(v.slot["digit"]).Done()
	w.memory = widgets.Select(labels(c.MemorySizes, 10)).SetDefault(ix.Memory).AppendTo(v.slot["memory"]).Done()
	w.shrink = widgets.Select(labels(c.ShrinkThresholds, 0.0025)).SetDefault(ix.Shrink).AppendTo(v.slot["shrink"]).Done()
	w.entropy = widgets.Select(labels(c.EntropyWeights, 0.0002)).SetDefault(ix.Entropy).AppendTo(v.slot["entropy"]).Done()
	w.epochs = widgets.Slider(1, c.MaxEpochs, ix.Epochs).AppendTo(v.slot["epochs"]).Done()
	w.imags = widgets.Select(labels(c.TrainImages, 0)).SetDefault(ix.Images).AppendTo(v.slot["images"]).Done()
	w.batch = widgets.Select(labels(c.BatchSizes, 64)).SetDefault(ix.Batch).AppendTo(v.slot["batch"]).Done()
	w.train = widgets.Button("Train").AppendTo(v.slot["buttons"]).Done()
	w.stop = widgets.Button("Stop the playground").AppendTo(v.slot["buttons"]).Done()
	go func() { // the slider has no read-out of its own
		ch := w.epochs.Listen().LatestOnly()
		for e := range ch.C {
			dom.SetInnerText(v.epochsValue, strconv.Itoa(e))
		}
	}()
	return w
}

// widgetWait is the least time RunPlayground waits for the front-end to answer
// the widgets (it also waits while the default run trains) before treating the
// execution as headless: CMEMAE_WIDGET_WAIT seconds, default 10 (a browser on
// a busy machine may need longer).
func widgetWait() time.Duration {
	if s, err := strconv.Atoi(os.Getenv(WidgetWaitEnv)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 10 * time.Second
}

// WidgetWaitEnv sets how long (seconds) the playground waits at least for the
// front-end to answer its widgets before it treats the run as headless.
const WidgetWaitEnv = "CMEMAE_WIDGET_WAIT"

// RunPlayground is the playground cell of notebooks/05_playground: widgets for
// the normal digit, memory size, shrinkage threshold λ, entropy loss weight,
// epochs, training images and batch size; a Train button starts a fresh run
// with them, and the AUROC curve (with the last few runs for comparison) and
// the reconstructions of normal and anomalous test images are redrawn after
// every epoch. Pressing Train during a run stops it and starts the new settings.
//
// The default settings are trained at once, so the figures appear without a
// click. Without a front-end (headless nbconvert, where no browser answers the
// widgets) RunPlayground returns after that run; outside a notebook it trains
// it and prints the summary. With a front-end the cell keeps running (a GoNB
// cell's program must run to hear its widgets) until the Stop button, an
// interrupt, or CMEMAE_WIDGET_IDLE seconds (default 300) without a click after
// the last run ended.
func RunPlayground(def PlaygroundSettings, choices PlaygroundChoices) error {
	ix, err := choices.Indices(def)
	if err != nil {
		return err
	}
	if err := def.Validate(); err != nil {
		return err
	}
	p, err := NewPlayground()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if !gonbui.IsNotebook {
		run, err := p.Run(ctx, def, nil)
		if err != nil {
			return err
		}
		i := run.Last()
		fmt.Printf("playground: %s: AUROC %.3f after %d epochs (%.1f s/epoch)\n",
			def.Label(), run.AUROC[i], run.Epochs[i], run.EpochTime.Seconds())
		return nil
	}

	v := newPlaygroundView()
	v.showControls(def)
	v.setStatus("starting: " + def.Label())
	gonbui.UpdateHTML(v.curve, "") // reserve the blocks in display order
	gonbui.UpdateHTML(v.recon, "")
	gonbui.Sync()

	ready := make(chan *playgroundWidgets, 1)
	go func() { ready <- v.buildWidgets(choices, ix) }()

	done := make(chan error, 1)
	var cancelRun context.CancelFunc = func() {}
	running := false
	start := func(s PlaygroundSettings) {
		var runCtx context.Context
		runCtx, cancelRun = context.WithCancel(ctx)
		running = true
		v.setStatus("training: " + s.Label())
		go func() {
			_, err := p.Run(runCtx, s, func(snap *PlaygroundSnapshot) error { return v.show(p, snap) })
			done <- err
		}()
	}
	start(def)

	// Wait for the widgets while the default run trains: at least widgetWait,
	// and as long as that run lasts (a slow front-end may need longer to answer).
	var w *playgroundWidgets
	var runErr error
	timeout := time.After(widgetWait())
	timedOut := false
	for w == nil && (running || !timedOut) {
		select {
		case w = <-ready:
		case runErr = <-done:
			running = false
		case <-timeout:
			timedOut = true
		}
	}
	if w == nil {
		// Headless: the default run has finished.
		v.setControls(`<i>No interactive front-end answered the widgets: trained the default settings ` +
			html.EscapeString(def.Label()) + `. Open the notebook in Jupyter and run this cell to change them.` +
			` Already in Jupyter? On a busy machine GoNB's browser side may give up connecting to the kernel` +
			` (it waits 500 ms; the browser console says "comm_open_ack not received in time"): run this cell again.</i>`)
		return runErr
	}
	if runErr != nil {
		v.setStatus(runErr.Error())
	}

	idle := 300 * time.Second
	if s, err := strconv.Atoi(os.Getenv(WidgetIdleEnv)); err == nil && s >= 0 {
		idle = time.Duration(s) * time.Second
	}
	trainC := w.train.Listen()
	defer trainC.Close()
	stopC := w.stop.Listen()
	defer stopC.Close()
	timer := time.NewTimer(idle)
	defer timer.Stop()
	var next *PlaygroundSettings
	finish := func(why string) {
		if running {
			cancelRun()
			<-done
		}
		v.setControls("<i>" + html.EscapeString(why) + " Run the cell again to play.</i>")
	}
	for {
		select {
		case <-trainC.C:
			s, err := w.settings()
			if err != nil {
				v.setStatus(err.Error())
				continue
			}
			timer.Reset(idle)
			if running {
				next = &s
				cancelRun()
				v.setStatus("stopping the current run for: " + s.Label())
				continue
			}
			start(s)
		case err := <-done:
			running = false
			timer.Reset(idle)
			if next != nil {
				s := *next
				next = nil
				start(s)
				continue
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				v.setStatus(err.Error())
			}
		case <-stopC.C:
			finish("Playground stopped.")
			return nil
		case <-timer.C:
			if running {
				timer.Reset(idle)
				continue
			}
			finish(fmt.Sprintf("Playground closed after %s without a click.", idle))
			return nil
		}
	}
}
