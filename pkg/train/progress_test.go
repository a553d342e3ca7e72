package train

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeTerminal is a buffer that says it is a terminal.
type fakeTerminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (f *fakeTerminal) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Write(p)
}
func (f *fakeTerminal) IsTerminal() bool { return true }

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is not a terminal")
	}
	if !IsTerminal(&fakeTerminal{}) {
		t.Error("a writer saying IsTerminal() true is a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}

// A log (Progress not a terminal) gets exactly one line per epoch and no bar
// frames; on a terminal the bar carries the caller's label and is cleared at
// the end of each epoch, before the epoch's line.
func TestOneLinePerEpoch(t *testing.T) {
	e := tinyExperiment("memae", 64, 2)
	var log bytes.Buffer
	opts := runOpts(t, e, []int{4}, t.TempDir())
	opts.Progress = &log
	mustRun(t, opts)
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	re := regexp.MustCompile(`^epoch [12]/2  loss [0-9.]+  AUROC 0\.[0-9]{4}$`)
	if len(lines) != 2 || !re.MatchString(lines[0]) || !re.MatchString(lines[1]) || strings.ContainsRune(log.String(), '\r') {
		t.Errorf("log of a 2-epoch run:\n%q", log.String())
	}

	term := &fakeTerminal{}
	opts = runOpts(t, e, []int{4}, t.TempDir())
	opts.Progress = term
	opts.ProgressLabel = func() string { return "run 2/7 ·" }
	var atEpoch []string
	opts.OnEpoch = func(er EpochResult) {
		term.mu.Lock()
		atEpoch = append(atEpoch, term.buf.String())
		term.mu.Unlock()
	}
	mustRun(t, opts)
	if len(atEpoch) != 2 {
		t.Fatalf("OnEpoch called %d times", len(atEpoch))
	}
	for i, out := range atEpoch {
		if !strings.Contains(out, "run 2/7 · epoch ") {
			t.Errorf("epoch %d: bar lacks the label:\n%q", i+1, out)
		}
		// Cleared: the last frame ends with a carriage return, leaving the
		// cursor at the start of an empty line for the epoch's line.
		if !strings.HasSuffix(out, "\r") || strings.Contains(out, "\n") {
			t.Errorf("epoch %d: bar not cleared before the epoch line:\n%q", i+1, out[max(0, len(out)-200):])
		}
	}
}
