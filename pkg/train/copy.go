package train

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/results"
)

// maxTestImagesComment starts the config.yaml line of a run evaluated on
// test subsets (Options.MaxTestImages > 0); runs evaluated on whole test
// sets have none.
const maxTestImagesComment = "# max_test_images: "

// ConfigMaxTestImages returns the Options.MaxTestImages a run's config.yaml
// records: 0 for a run evaluated on whole test sets (and for runs written
// before the line existed).
func ConfigMaxTestImages(configYAML []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(configYAML))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), maxTestImagesComment)
		if !ok {
			continue
		}
		var n int
		if _, err := fmt.Sscan(rest, &n); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// copyStaging, in a run directory, holds a copy under way (CopyRun): the
// files not yet moved into place. While it exists without metrics.csv beside
// it, the directory's other files are the copy's, and the next CopyRun or Run
// removes them (cleanCopyLeftovers).
const copyStaging = ".copying"

// ErrNotFresh is wrapped by CopyRun's error for a run directory that already
// holds metrics or checkpoints of its own: it resumes, it is not replaced.
var ErrNotFresh = errors.New("the run directory already holds metrics or checkpoints")

// CopyRun makes the run of opts (its Experiment, Targets, Dir and Params) a
// copy of the complete run in src, which trained and was evaluated alike:
// src's checkpoints and files are copied (hard-linked where the filesystem
// allows: checkpoints are never changed in place), its metrics.csv rewritten
// with this run's experiment name and params, and config.yaml written for
// this run's configuration. Deciding that src is such a twin is the caller's
// (experiment.Twins); CopyRun checks only that src is a run directory.
//
// It holds opts.Dir's lock (waiting with Options.WaitForLock) and refuses,
// with an error wrapping ErrNotFresh, a directory with metrics.csv or
// checkpoints of its own. metrics.csv is moved into place last, so an
// interrupted copy never leaves a run that looks complete; the next CopyRun
// copies again, and Run trains from scratch. The result has ResumedFrom set
// to the last epoch of src and CopiedFrom to src.
func CopyRun(ctx context.Context, src string, opts Options) (res *RunResult, err error) {
	s, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if filepath.Clean(src) == filepath.Clean(opts.Dir) {
		return nil, fmt.Errorf("train: copying run %s onto itself", src)
	}
	srcConfig, err := os.ReadFile(filepath.Join(src, results.ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	srcRows, err := results.ReadCSV(filepath.Join(src, results.MetricsFile))
	if err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: not started: %w", err)
	}
	lock, err := claimRunDir(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	for _, own := range []string{results.MetricsFile, results.CheckpointsDir} {
		if _, err := os.Stat(filepath.Join(opts.Dir, own)); err == nil {
			return nil, fmt.Errorf("train: not copying %s into %s: it holds %s: %w", src, opts.Dir, own, ErrNotFresh)
		}
	}

	// Stage everything, then move it into place, metrics.csv last.
	staging := filepath.Join(opts.Dir, copyStaging)
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	moved := false
	defer func() {
		if err != nil && !moved { // nothing in place: leave nothing behind
			_ = os.RemoveAll(staging)
		}
	}()
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || n == results.ConfigFile || n == results.MetricsFile {
			continue
		}
		if err := copyTree(filepath.Join(src, n), filepath.Join(staging, n)); err != nil {
			return nil, fmt.Errorf("train: copying run %s: %w", src, err)
		}
		names = append(names, n)
	}
	if err := writeFileSynced(filepath.Join(staging, results.ConfigFile), func(w io.Writer) error {
		return copiedConfig(w, opts, s.targets, srcConfig)
	}); err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	names = append(names, results.ConfigFile)
	last := 0
	for i := range srcRows {
		srcRows[i].Experiment, srcRows[i].Params = s.experiment, s.params
		last = max(last, srcRows[i].Epoch)
	}
	if err := results.WriteCSV(filepath.Join(staging, results.MetricsFile), srcRows); err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	names = append(names, results.MetricsFile)
	atomicfile.SyncDir(staging)
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(opts.Dir, n)); err != nil { // a config.yaml, or a stale file
			return nil, fmt.Errorf("train: copying run %s: %w", src, err)
		}
		moved = true
		if err := os.Rename(filepath.Join(staging, n), filepath.Join(opts.Dir, n)); err != nil {
			return nil, fmt.Errorf("train: copying run %s: %w", src, err)
		}
	}
	atomicfile.SyncDir(opts.Dir)
	if err := os.Remove(staging); err != nil {
		return nil, fmt.Errorf("train: copying run %s: %w", src, err)
	}
	return &RunResult{Dir: opts.Dir, ResumedFrom: last, CopiedFrom: src}, nil
}

// copiedConfig writes the config.yaml of a copied run: its own (runConfig),
// with the effective model line of src's, which the two runs share.
func copiedConfig(w io.Writer, opts Options, targets []int, srcConfig []byte) error {
	var effective string
	sc := bufio.NewScanner(bytes.NewReader(srcConfig))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, effectiveModelComment) {
			effective = l
		}
	}
	doc, err := runConfig(opts.Experiment, targets, effective, opts.MaxTestImages)
	if err != nil {
		return err
	}
	_, err = w.Write(doc)
	return err
}

// copyTree copies a file or directory tree, hard-linking files where it can.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case rel != "." && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir // a checkpoint being written or replaced
			}
			return nil
		case d.IsDir():
			return os.Mkdir(dst, 0o755)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		if os.Link(path, dst) == nil {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		return writeFileSynced(dst, func(w io.Writer) error { _, err := io.Copy(w, in); return err })
	})
}

// cleanCopyLeftovers removes, from a run directory whose lock is held, what
// an interrupted CopyRun left: its staging directory and, if it had not
// moved metrics.csv into place yet, the files it had (the directory was
// fresh when it started, so they are all the copy's).
func cleanCopyLeftovers(dir string) error {
	staging := filepath.Join(dir, copyStaging)
	if _, err := os.Stat(staging); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, results.MetricsFile)); errors.Is(err, os.ErrNotExist) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("train: removing the interrupted copy in %s: %w", dir, err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return fmt.Errorf("train: removing the interrupted copy in %s: %w", dir, err)
				}
			}
		}
	}
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("train: removing the interrupted copy in %s: %w", dir, err)
	}
	return nil
}
