// Command thesis_experiments trains and evaluates the thesis's memory-augmented
// (conditional) autoencoders: the Go counterpart of the thesis's
// `python main.py model=memae datamodule=mnist`, with the same Hydra-style
// arguments:
//
//	go run ./thesis_experiments model=memae datamodule=mnist
//	go run ./thesis_experiments model=ae datamodule=cifar trainer.max_epochs=10 datamodule.targets=[3]
//	go run ./thesis_experiments conditional=unknown datamodule.targets=[[1,7]]
//	go run ./thesis_experiments seed=1,2,3 model.memory_size=10,50       # a sweep: 6 configurations × 10 digits = 60 runs
//	go run ./thesis_experiments experiment=baseline_mnist                # one of the thesis's experiments
//	go run ./thesis_experiments bench                                    # throughput vs PyTorch
//	go run ./thesis_experiments table -latex results/baseline_mnist      # class × configuration table
//	go run ./thesis_experiments sbatch -time 2:00:00 experiment=baseline_mnist   # a Slurm job array script
//	go run ./thesis_experiments -h                                       # keys, groups, experiments
//
// Every (configuration × seed × target group) is one run, trained with
// package train into <results_dir>/<name>/<params>/seed_<s>/target_<t>/ (see
// package results). A run interrupted with Ctrl-C, or by a crash, resumes from
// its last checkpoint when the same command is run again.
//
// Exit status: 0 on success, 1 when a run fails, 2 for a configuration or
// usage error (reported before anything is trained), 130 when interrupted.
// These are the built binary's (go build -o cmemae ./thesis_experiments):
// `go run` prints "exit status N" and itself exits 1 whenever the program
// fails, whatever N was.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stderr := newConsole(os.Stderr)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			// Restore the default behaviour: a second Ctrl-C aborts at once.
			stop()
			fmt.Fprintln(stderr, "stopping after the current training step; finished epochs are in the checkpoint \"last\" (Ctrl-C again to abort)…")
		case <-done:
		}
	}()
	err := run(ctx, os.Args[1:], os.Stdout, stderr)
	close(done)
	stop()
	code := exitCode(err, stderr)
	if code > 1 && underGoRun() {
		fmt.Fprintf(stderr, "(exit status %d; `go run` turns it into 1 — for the real exit status build the command: go build -o cmemae ./thesis_experiments)\n", code)
	}
	os.Exit(code)
}

// underGoRun reports whether the binary was built by `go run` (it lives in a
// go-build temporary directory).
func underGoRun() bool {
	exe, err := os.Executable()
	return err == nil && isGoRunPath(exe)
}

func isGoRunPath(exe string) bool {
	sep := string(filepath.Separator)
	return strings.Contains(exe, sep+"go-build") && strings.Contains(exe, sep+"exe"+sep)
}

// usageError is a mistake in the command line or configuration: nothing was trained.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode reports err on stderr and maps it to the exit status.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "interrupted: %v\nRun the same command again to resume from the last checkpoint.\n", err)
		return 130
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "error: %v\nRun with -h for the keys, groups and experiments.\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
}

// internalError is a panic of the command turned into an error: a bug, never
// the user's input. It exits 1, not 2 (the status of a Go runtime crash and of
// configuration errors).
type internalError struct {
	value any
	stack []byte
}

func (e internalError) Error() string {
	return fmt.Sprintf("internal error (a bug; please report it with this message): %v\n%s", e.value, e.stack)
}

// run is the whole command: args without the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = internalError{value: r, stack: debug.Stack()}
		}
	}()
	if len(args) > 0 {
		switch args[0] {
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "table":
			return runTable(ctx, args[1:], stdout, stderr)
		case "sbatch":
			return runSbatch(ctx, args[1:], stdout, stderr)
		case "export":
			return runExport(ctx, args[1:], stdout, stderr)
		}
	}
	return runExperiments(ctx, args, stdout, stderr)
}
