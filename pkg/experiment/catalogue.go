package experiment

import (
	"embed"
	"io/fs"
	"slices"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/results"
)

//go:embed catalogue/*.yaml catalogue/budget/*.yaml
var catalogueFiles embed.FS

// Catalogue holds the thesis's experiment files, <name>.yaml (selected with
// experiment=<name>; see the catalogue directory for their grids), and the
// budget overlays, budget/<name>.yaml (selected with budget=<name>, see
// [Budget]).
var Catalogue fs.FS = mustSub(catalogueFiles, "catalogue")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// NewParser returns a configuration parser that knows the [Catalogue].
func NewParser() *config.Parser { return &config.Parser{Experiments: Catalogue} }

// Parse composes and validates the configurations selected by Hydra-style
// key=value arguments, experiment=<name> taken from the [Catalogue] (or a
// YAML file), budget=<name> expanded into its overlay's overrides (see
// [Budget]; without it the experiment runs as the thesis ran it), recorded
// in each configuration's Budget. See config.Parser.Parse.
func Parse(args ...string) ([]config.Experiment, error) {
	budget, _, err := SplitBudget(args)
	if err != nil {
		return nil, err
	}
	expanded, applied, err := withBudget(args)
	if err != nil {
		return nil, err
	}
	exps, err := NewParser().Parse(expanded...)
	if err != nil {
		return nil, err
	}
	for i := range exps {
		exps[i].Params = slices.DeleteFunc(exps[i].Params, func(p results.Param) bool { return applied[p.Key] })
		exps[i].Budget = budget
	}
	return exps, nil
}
