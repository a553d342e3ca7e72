package results_test

import (
	"fmt"

	"github.com/cmemae/cmemae/pkg/results"
)

// A mean over seeds says what it averages: the seeds of each configuration.
func ExampleTable_Seeds() {
	t := results.Table{Rows: []results.Row{
		{Experiment: "baseline_mnist", Params: "model=memae", Seed: 2, Target: "0", Epoch: 1, AUROC: 0.9},
		{Experiment: "baseline_mnist", Params: "model=memae", Seed: 1, Target: "0", Epoch: 1, AUROC: 0.8},
		{Experiment: "baseline_mnist", Params: "model=memae", Seed: 1, Target: "1", Epoch: 1, AUROC: 0.7},
		{Experiment: "baseline_mnist", Params: "model=ae", Seed: 3, Target: "0", Epoch: 1, AUROC: 0.6},
	}}
	seeds := t.Seeds(results.ByParams)
	fmt.Println("model=ae:", results.SeedList(seeds["model=ae"]))
	fmt.Println("model=memae:", results.SeedList(seeds["model=memae"]))
	// Output:
	// model=ae: 3
	// model=memae: 1, 2
}
