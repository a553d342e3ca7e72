package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"
)

// RunProgress is how far one run directory got: the highest epoch in its
// metrics.csv against the trainer.max_epochs of its config.yaml.
type RunProgress struct {
	// Dir is the run directory.
	Dir string
	// Experiment, Params, Seed and Target identify the run as its rows do.
	Experiment, Params string
	Seed               int64
	Target             string
	// LastEpoch is the highest epoch with metrics (0: only the init evaluation).
	LastEpoch int
	// MaxEpochs is trainer.max_epochs of the run's config.yaml; 0 when the
	// file is missing or has no such key (the run then counts as finished).
	MaxEpochs int
}

// Finished reports whether the run trained all its epochs (or its target
// is unknown).
func (p RunProgress) Finished() bool { return p.MaxEpochs <= 0 || p.LastEpoch >= p.MaxEpochs }

// Matches reports whether row r belongs to the run.
func (p RunProgress) Matches(r Row) bool {
	return r.Experiment == p.Experiment && r.Params == p.Params && r.Seed == p.Seed && r.Target == p.Target
}

// LoadProgress returns the progress of every run below root (every directory
// with a metrics.csv), in the order of Load.
func LoadProgress(root string) ([]RunProgress, error) {
	var out []RunProgress
	err := walkMetrics(root, func(path string, rows []Row) (err error) {
		if len(rows) == 0 {
			return nil
		}
		dir := filepath.Dir(path)
		p := RunProgress{Dir: dir, Experiment: rows[0].Experiment, Params: rows[0].Params, Seed: rows[0].Seed, Target: rows[0].Target}
		for _, r := range rows {
			p.LastEpoch = max(p.LastEpoch, r.Epoch)
		}
		if p.MaxEpochs, err = readMaxEpochs(filepath.Join(dir, ConfigFile)); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("results: loading %s: %w", root, err)
	}
	slices.SortStableFunc(out, func(a, b RunProgress) int {
		return compareRows(Row{Experiment: a.Experiment, Params: a.Params, Seed: a.Seed, Target: a.Target},
			Row{Experiment: b.Experiment, Params: b.Params, Seed: b.Seed, Target: b.Target})
	})
	return out, nil
}

// readMaxEpochs reads trainer.max_epochs from a run's config.yaml (0 if the
// file does not exist).
func readMaxEpochs(path string) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var cfg struct {
		Trainer struct {
			MaxEpochs int `yaml:"max_epochs"`
		} `yaml:"trainer"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return cfg.Trainer.MaxEpochs, nil
}
