package config

import (
	"strings"
	"testing"
	"testing/fstest"
)

// checkParsed verifies what Parse promises for accepted input: valid
// experiments whose YAML form reads back.
func checkParsed(t *testing.T, exps []Experiment) {
	t.Helper()
	for _, e := range exps {
		if err := e.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid experiment: %v", err)
		}
		out, err := e.YAML()
		if err != nil {
			t.Fatalf("YAML of a parsed experiment: %v", err)
		}
		var back Experiment
		if err := decodeStrict(out, &back, "", true); err != nil {
			t.Fatalf("config.yaml of a parsed experiment does not read back: %v\n%s", err, out)
		}
	}
}

// FuzzOverride feeds arbitrary key=value arguments to the parser: errors are
// fine, panics and invalid accepted configurations are not.
func FuzzOverride(f *testing.F) {
	for _, seed := range [][2]string{
		{"model.memory_size=10.5", "seed=1"},
		{"results_dir=/tmp/a,b", "from_checkpoint=results/x/model.memory_size=20,seed=3/seed_3/target_0-1"},
		{"datamodule.targets=[[0,1],[4,5]]", "conditional=unknown"},
		{"seed=choice(1,2)", "model.memory_size=10,50"},
		{"datamodule.targets=[1,1]", "model=ae"},
		{"model.model_transformers=[transfer,freeze]", "from_checkpoint=${results_dir}/${name}"},
		{"experiment=baseline", "model.arch=cifar"},
		{"+model=memae", "++datamodule=cifar"},
		{"datamodule.targets='[1]'", "trainer.max_epochs=1e3"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		// Files on disk are not the subject here (FuzzExperimentYAML is).
		if strings.Contains(a, "experiment") || strings.Contains(b, "experiment") {
			return
		}
		exps, err := Parse(a, b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		checkParsed(t, exps)
	})
}

// FuzzExperimentYAML feeds arbitrary experiment files to the parser.
func FuzzExperimentYAML(f *testing.F) {
	for _, seed := range []string{
		"description: x\nmodel:\n  memory_size: 10.5\n",
		"defaults:\n  model: ae\n  datamodule: cifar\ntrainer:\n  max_epochs: 3\n",
		"sweep:\n  seed: [1, 2]\n  model.memory_size: 10,50\n",
		"sweep:\n  - {model.arch: [mnist, mnist-flat]}\n  - {conditional: [known], datamodule.targets: ['[[0,1]]']}\n",
		"datamodule:\n  targets: [3, [1, 7]]\nconditional: none\n",
		"a: &x [1,2]\nb: *x\n",
		"model: [1, 2]\n",
		"results_dir: /tmp/a,b\nfrom_checkpoint: ${results_dir}/x\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := &Parser{Experiments: fstest.MapFS{"x.yaml": {Data: body}}}
		exps, err := p.Parse("experiment=x")
		if err != nil {
			return
		}
		checkParsed(t, exps)
	})
}
