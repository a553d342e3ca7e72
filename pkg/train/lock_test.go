package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmemae/cmemae/pkg/results"
)

// TestRunLockExcludes: a held lock refuses a second taker with a message
// naming the directory and this process as the holder; after Unlock it can be
// taken again; LockRun waits for the holder and stops when its context ends.
func TestRunLockExcludes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, err := TryLockRun(dir)
	if err != nil {
		t.Fatalf("TryLockRun: %v", err)
	}
	_, err = TryLockRun(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLockRun: err = %v, want ErrLocked", err)
	}
	pid := fmt.Sprintf("pid %d on host ", os.Getpid())
	for _, want := range []string{dir, pid, filepath.Join(dir, LockFile), "resumes from its last checkpoint"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("locked error %q lacks %q", err, want)
		}
	}
	if h := LockHolder(dir); !strings.HasPrefix(h, pid) {
		t.Errorf("LockHolder = %q, want prefix %q", h, pid)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var waited string
	_, err = LockRun(ctx, dir, func(holder string) { waited = holder })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(waited, pid) {
		t.Errorf("LockRun on a held lock: err %v (want deadline exceeded), onWait got %q", err, waited)
	}

	// A waiter gets the lock once it is released.
	got := make(chan error, 1)
	go func() {
		l2, err := LockRun(context.Background(), dir, nil)
		if err == nil {
			err = l2.Unlock()
		}
		got <- err
	}()
	time.Sleep(2 * lockRetry)
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Errorf("second Unlock: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("waiting LockRun: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LockRun did not get the released lock within 10 s")
	}
	l3, err := TryLockRun(dir)
	if err != nil {
		t.Fatalf("TryLockRun after release: %v", err)
	}
	l3.Unlock()
}

// TestRunRefusesLockedDir: a Run started on a directory another Run is
// training fails at once with ErrLocked and leaves the directory alone.
func TestRunRefusesLockedDir(t *testing.T) {
	e := tinyExperiment("memae", 32, 1)
	dir := t.TempDir()
	opts := runOpts(t, e, []int{3}, dir)
	opts.MaxTestImages = 50
	var inner error
	opts.OnStep = func(epoch, step int) {
		if step == 1 {
			second := opts
			second.OnStep = nil
			_, inner = Run(context.Background(), second)
		}
	}
	mustRun(t, opts)
	if !errors.Is(inner, ErrLocked) || !strings.Contains(inner.Error(), "is in use by pid") {
		t.Errorf("Run on a locked directory: err = %v, want ErrLocked naming the holder", inner)
	}
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil || len(rows) != 1 || rows[0].Epoch != 1 {
		t.Errorf("metrics after the refused Run: %v rows %+v", err, rows)
	}
}

// TestConcurrentRunsSameDir is the reliability issue's scenario: N identical
// runs started at once into one directory. Each epoch ends up exactly once in
// metrics.csv (without the lock they interleaved: 1,2,1,3,…); one Run trains,
// the others wait and then find the run complete.
func TestConcurrentRunsSameDir(t *testing.T) {
	const n, epochs = 3, 3
	e := tinyExperiment("memae", 32, epochs)
	dir := t.TempDir()
	var wg sync.WaitGroup
	res := make([]*RunResult, n)
	errs := make([]error, n)
	for i := range n {
		opts := runOpts(t, e, []int{5}, dir)
		opts.MaxTestImages = 50
		opts.WaitForLock = true
		wg.Go(func() { res[i], errs[i] = Run(context.Background(), opts) })
	}
	wg.Wait()
	trained := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Run %d: %v", i, errs[i])
		}
		switch {
		case len(res[i].Epochs) == epochs && res[i].ResumedFrom == -1:
			trained++
		case len(res[i].Epochs) == 0 && res[i].ResumedFrom == epochs:
		default:
			t.Errorf("Run %d trained %d epochs after resuming from %d", i, len(res[i].Epochs), res[i].ResumedFrom)
		}
	}
	if trained != 1 {
		t.Errorf("%d runs trained, want exactly 1", trained)
	}
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range rows {
		got = append(got, r.Epoch)
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("metrics.csv epochs = %v, want [1 2 3]", got)
	}
	if ok, err := Completed(dir, epochs); !ok || err != nil {
		t.Errorf("Completed(%d) = %v, %v; want true", epochs, ok, err)
	}
	if ok, _ := Completed(dir, epochs+1); ok {
		t.Errorf("Completed(%d) = true for a run of %d epochs", epochs+1, epochs)
	}
	if ok, err := Completed(t.TempDir(), epochs); ok || err != nil {
		t.Errorf("Completed(empty dir) = %v, %v", ok, err)
	}
}
