package experiment

import (
	"embed"
	"io/fs"

	"github.com/cmemae/cmemae/pkg/config"
)

//go:embed catalogue/*.yaml
var catalogueFiles embed.FS

// Catalogue holds the thesis's experiment files, <name>.yaml (selected with
// experiment=<name>; see the catalogue directory for their grids).
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
// YAML file). See config.Parser.Parse.
func Parse(args ...string) ([]config.Experiment, error) { return NewParser().Parse(args...) }
