package train

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// residentBytes is the process's resident set size, from /proc/self/statm,
// after a garbage collection that returns freed memory to the OS (so it
// measures what is retained, not what the collector has not reached yet).
func residentBytes(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm on this system: %v", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		t.Fatalf("/proc/self/statm = %q: want at least 2 fields", b)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatalf("/proc/self/statm resident field %q: %v", fields[1], err)
	}
	return pages * int64(os.Getpagesize())
}

// TestMemoryStaysFlat trains 10 epochs (with a checkpoint and an evaluation
// after each) and checks that the resident memory after epoch 10 is within
// 10% of that after epoch 2: tensors, compiled graphs and checkpoint buffers
// are not leaked per step or per epoch (issue 7).
func TestMemoryStaysFlat(t *testing.T) {
	const epochs = 10
	e := tinyExperiment("memae", 64, epochs)
	e.Datamodule.BatchSize = 16
	dir := filepath.Join(t.TempDir(), "test", "default", "seed_1", "target_0")
	opts := runOpts(t, e, []int{0}, dir)
	opts.MaxTestImages = 200
	opts.Progress = &bytes.Buffer{}
	rss := make(map[int]int64)
	opts.OnEpoch = func(er EpochResult) { rss[er.Epoch] = residentBytes(t) }
	mustRun(t, opts)

	after2, after10 := rss[2], rss[epochs]
	if after2 == 0 || after10 == 0 {
		t.Fatalf("resident memory not measured after epochs 2 and %d: %v", epochs, rss)
	}
	growth := float64(after10)/float64(after2) - 1
	t.Logf("resident memory: epoch 2 %.1f MiB, epoch %d %.1f MiB (%+.1f%%)",
		float64(after2)/(1<<20), epochs, float64(after10)/(1<<20), 100*growth)
	if growth > 0.10 {
		t.Errorf("resident memory grew %.1f%% from epoch 2 to epoch %d (%d → %d bytes); want within 10%%",
			100*growth, epochs, after2, after10)
	}
}
