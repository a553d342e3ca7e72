package train

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// IsTerminal reports whether w is a terminal: a writer with an IsTerminal
// method says so itself (a wrapper around os.Stderr), an *os.File when it is a
// character device. Progress bars are drawn only on terminals; a log file gets
// one line per epoch and no carriage-return frames.
func IsTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// evalBatchCount is the number of evaluation batches of one epoch.
func (r *runner) evalBatchCount() int {
	n := 0
	for _, ts := range r.split.Tests {
		n += (ts.Len() + r.evalBatch - 1) / max(r.evalBatch, 1)
	}
	return max(n, 1)
}

// newBar is the progress bar of one epoch: one unit per training step and
// one per evaluation batch (units). It is drawn only when Progress is a terminal and
// clears itself when complete; r.bar remembers it so that an interruption or
// an error can clear it before any message is printed.
func (r *runner) newBar(epoch, units int) *progressbar.ProgressBar {
	if r.opts.Progress == nil || !IsTerminal(r.opts.Progress) {
		r.bar = progressbar.DefaultSilent(int64(units))
		return r.bar
	}
	r.bar = progressbar.NewOptions(units,
		progressbar.OptionSetWriter(r.opts.Progress),
		progressbar.OptionSetDescription(r.barLabel(epoch, "")),
		progressbar.OptionSetWidth(25),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return r.bar
}

// barLabel is the bar's description: the caller's label, the epoch and what.
func (r *runner) barLabel(epoch int, what string) string {
	s := fmt.Sprintf("epoch %d/%d", epoch, r.s.maxEpochs)
	if r.label != "" {
		s = r.label + " " + s
	}
	if what != "" {
		s += " " + what
	}
	return s
}

// clearBar removes an unfinished progress bar from the terminal.
func (r *runner) clearBar() {
	if r.bar != nil && !r.bar.IsFinished() {
		_ = r.bar.Clear()
	}
	r.bar = nil
}
