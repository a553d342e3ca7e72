package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// LockFile is the lock file of a run directory. While a process trains a
// run it holds an exclusive OS file lock (flock(2); LockFileEx on Windows)
// on <run dir>/.lock, and the file names the holder ("pid 1234 on host
// node07 since 2026-11-30T12:00:00Z"). The operating system releases the lock
// when the process ends, however it ends (kill -9, a node's scheduler
// cancelling a job), so a lock is never stale on a local filesystem; on NFS,
// Linux maps flock to the server's byte-range locks (NLM or NFSv4), which the
// server releases when the client's lease runs out (NFSv4) or the client
// reboots (NLM). The file itself stays (removing a lock file is racy) and
// means nothing without the lock.
const LockFile = ".lock"

// ErrLocked is wrapped by the error of Run and TryLockRun when another
// process (or another Run in this process) holds the run directory's lock.
var ErrLocked = errors.New("run directory is in use")

// LockedError reports a run directory locked by someone else. It wraps
// ErrLocked.
type LockedError struct {
	Dir    string // the run directory
	Holder string // the lock file's description of the holder, "" if unknown
}

func (e *LockedError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "another process"
	}
	return fmt.Sprintf("train: run directory %s is in use by %s (it holds %s); wait for it to finish, or stop it — the run then resumes from its last checkpoint",
		e.Dir, holder, filepath.Join(e.Dir, LockFile))
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// RunLock is the exclusive lock on a run directory held by this process.
type RunLock struct {
	fl  *flock.Flock
	dir string
}

// lockRetry is how often LockRun retries a held lock.
const lockRetry = 200 * time.Millisecond

func newFlock(dir string) (*flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: creating run directory: %w", err)
	}
	return flock.New(filepath.Join(dir, LockFile), flock.SetPermissions(0o644)), nil
}

// TryLockRun takes the lock of run directory dir (created if missing)
// without waiting. If another holder has it, the error is a *LockedError
// (errors.Is(err, ErrLocked)) naming the holder.
func TryLockRun(dir string) (*RunLock, error) {
	fl, err := newFlock(dir)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("train: locking run directory %s: %w", dir, err)
	}
	if !ok {
		return nil, &LockedError{Dir: dir, Holder: LockHolder(dir)}
	}
	return acquired(fl, dir), nil
}

// LockRun takes the lock of run directory dir (created if missing), waiting
// while someone else holds it. onWait, if not nil, is called once, with the
// holder's description, when it has to wait. Cancelling ctx stops the wait
// with an error wrapping ctx.Err().
func LockRun(ctx context.Context, dir string, onWait func(holder string)) (*RunLock, error) {
	l, err := TryLockRun(dir)
	if !errors.Is(err, ErrLocked) {
		return l, err
	}
	if onWait != nil {
		var le *LockedError
		errors.As(err, &le)
		onWait(le.Holder)
	}
	fl, err := newFlock(dir)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("train: waiting for run directory %s: %w", dir, err)
	}
	return acquired(fl, dir), nil
}

// acquired records this process as the holder in the lock file.
func acquired(fl *flock.Flock, dir string) *RunLock {
	host, _ := os.Hostname()
	who := fmt.Sprintf("pid %d on host %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	// Best effort: the lock is the flock, the text only explains it.
	_ = os.WriteFile(fl.Path(), []byte(who), 0o644)
	return &RunLock{fl: fl, dir: dir}
}

// LockHolder describes the holder recorded in dir's lock file ("pid 1234 on
// host node07 since …"), or "" if there is none. It does not check that the
// lock is held.
func LockHolder(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Unlock releases the lock. It is safe to call more than once.
func (l *RunLock) Unlock() error {
	if l == nil || l.fl == nil {
		return nil
	}
	fl := l.fl
	l.fl = nil
	if err := fl.Unlock(); err != nil {
		return fmt.Errorf("train: unlocking run directory %s: %w", l.dir, err)
	}
	return nil
}

// Completed reports whether the run in dir has checkpointed maxEpochs
// epochs: its latest checkpoint is of epoch maxEpochs or later (the last
// epoch is always checkpointed, after its metrics are written). It needs no
// lock: checkpoints appear atomically. Whether a run has anything left to
// train is experiment.Run.Complete, which also reads its metrics and counts
// a run without checkpoints (exported results) by them.
func Completed(dir string, maxEpochs int) (bool, error) {
	if maxEpochs < 1 {
		return false, fmt.Errorf("train: Completed: trainer.max_epochs must be >= 1, got %d", maxEpochs)
	}
	cps, err := ListCheckpoints(dir)
	if err != nil || len(cps) == 0 {
		return false, err
	}
	return cps[len(cps)-1].Epoch >= maxEpochs, nil
}

// lockRunDir takes opts.Dir's lock for Run: at once, or waiting when
// opts.WaitForLock is set (saying so on opts.Progress).
func lockRunDir(ctx context.Context, opts Options) (*RunLock, error) {
	if !opts.WaitForLock {
		return TryLockRun(opts.Dir)
	}
	return LockRun(ctx, opts.Dir, func(holder string) {
		if opts.Progress != nil {
			if holder == "" {
				holder = "another process"
			}
			fmt.Fprintf(opts.Progress, "train: %s is in use by %s; waiting for it\n", opts.Dir, holder)
		}
	})
}

// claimRunDir takes opts.Dir's lock (lockRunDir) and removes what an
// interrupted copy or checkpoint write left there.
func claimRunDir(ctx context.Context, opts Options) (*RunLock, error) {
	lock, err := lockRunDir(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := cleanCopyLeftovers(opts.Dir); err != nil {
		lock.Unlock()
		return nil, err
	}
	cleanCheckpointLeftovers(opts.Dir)
	return lock, nil
}
