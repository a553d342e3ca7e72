package config_test

import (
	"fmt"
	"log"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/results"
)

// Hydra-style arguments, as on the command line: group choices, key=value
// overrides and a sweep (a comma list), expanded into one Experiment each. The
// model key names the results directory (params; trainer.max_epochs does not, so
// a longer run continues a shorter one); seed and the ten digits (one run each)
// come from the defaults.
func ExampleParse() {
	exps, err := config.Parse("model=memae", "datamodule=mnist", "model.memory_size=10,50", "trainer.max_epochs=3")
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range exps {
		fmt.Printf("%s/%s: %s/%s N=%d λ=%g epochs=%d seed=%d targets=%v\n", e.Name, results.ParamsSlug(e.Params),
			e.Model.Name, e.Model.Arch, e.Model.MemorySize, e.Model.ShrinkThreshold, e.Trainer.MaxEpochs, e.Seed,
			e.Datamodule.Targets)
	}

	// A typo stops before anything trains, naming the nearest valid key.
	_, err = config.Parse("model.memory_sise=10")
	fmt.Println(err)
	// Output:
	// memae_mnist/model.memory_size=10: memae/mnist-flat N=10 λ=0.0025 epochs=3 seed=1 targets=[[0] [1] [2] [3] [4] [5] [6] [7] [8] [9]]
	// memae_mnist/model.memory_size=50: memae/mnist-flat N=50 λ=0.0025 epochs=3 seed=1 targets=[[0] [1] [2] [3] [4] [5] [6] [7] [8] [9]]
	// config: unknown key "model.memory_sise" (did you mean "model.memory_size"?)
}

// SplitArg reads an argument as Parse does: Hydra's + and ++ prefixes and
// the space around the key are dropped, the value is kept whole.
func ExampleSplitArg() {
	for _, a := range []string{"seed=1,2", "++results_dir=/tmp/a=b", " model.memory_size =10", "memae"} {
		k, v, ok := config.SplitArg(a)
		fmt.Printf("%q %q %v\n", k, v, ok)
	}
	// Output:
	// "seed" "1,2" true
	// "results_dir" "/tmp/a=b" true
	// "model.memory_size" "10" true
	// "memae" "" false
}
