package train

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
)

var (
	testBackendOnce sync.Once
	testBackend     compute.Backend
	testBackendErr  error
)

// goBackend returns the shared pure-Go backend of the tests.
func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	testBackendOnce.Do(func() {
		os.Setenv(backend.EnvVar, "go")
		testBackend, _, testBackendErr = backend.New("go")
	})
	if testBackendErr != nil {
		t.Fatalf("backend: %v", testBackendErr)
	}
	return testBackend
}

// mnist loads the MNIST training and test sets (cached for the process).
func mnist(t testing.TB) (train, test *data.Dataset) {
	t.Helper()
	train, err := data.LoadCached("mnist", data.Train, data.LoadOptions{})
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	test, err = data.LoadCached("mnist", data.Test, data.LoadOptions{})
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	return train, test
}

// tinyExperiment is a fast mnist-flat MemAE configuration with the thesis's
// defaults except the number of samples and epochs.
func tinyExperiment(kind string, k, epochs int) config.Experiment {
	return config.Experiment{
		Name: "test",
		Seed: 1,
		Model: config.ModelConfig{
			Name: kind, Arch: "mnist-flat", MemorySize: 10, ShrinkThreshold: 0.0025,
			CosineSimilarity: true, EntropyLoss: "thesis", EntropyLossWeight: 0.0002,
			LearningRate: 1e-3, SelectionMetric: "sum",
		},
		Datamodule: config.DataConfig{
			Name: "mnist", NumTrainSamples: k, BatchSize: 32, TestBatchSize: 500, AnomalyFraction: 0.3,
		},
		Trainer:                     config.TrainerConfig{MaxEpochs: epochs, Backend: "go"},
		Conditional:                 "none",
		SaveCheckpointsEveryNEpochs: 1,
	}
}

// runOpts are options for a quick run in dir.
func runOpts(t testing.TB, e config.Experiment, targets []int, dir string) Options {
	train, test := mnist(t)
	return Options{
		Experiment: e, Targets: targets, Dir: dir, Backend: goBackend(t),
		TrainData: train, TestData: test, MaxTestImages: 300,
	}
}

func mustRun(t *testing.T, opts Options) *RunResult {
	t.Helper()
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}
