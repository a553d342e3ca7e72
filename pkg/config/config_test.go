package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cmemae/cmemae/pkg/models"
)

func parse1(t *testing.T, args ...string) Experiment {
	t.Helper()
	exps, err := Parse(args...)
	if err != nil {
		t.Fatalf("Parse(%q): %v", args, err)
	}
	if len(exps) != 1 {
		t.Fatalf("Parse(%q): %d experiments, want 1", args, len(exps))
	}
	return exps[0]
}

func TestDefaultsMNIST(t *testing.T) {
	e := parse1(t, "model=memae", "datamodule=mnist")
	want := Experiment{
		Model: ModelConfig{Name: "memae", Arch: "mnist-flat", MemorySize: 10, ShrinkThreshold: 0.0025,
			CosineSimilarity: true, EntropyLoss: "thesis", EntropyLossWeight: 0.0002, LearningRate: 1e-4,
			ModelTransformers: []Transformer{}, SelectionMetric: "sum"},
		Datamodule: DataConfig{Name: "mnist", Targets: Targets{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}},
			BatchSize: 64, Shuffle: false, TestBatchSize: 500, AnomalyFraction: 0.3}, // the thesis does not shuffle
		Trainer:                     TrainerConfig{MaxEpochs: 100},
		Conditional:                 "none",
		Seed:                        1,
		SaveCheckpointsEveryNEpochs: 5,
		Name:                        "memae_mnist",
		ResultsDir:                  "results",
	}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("got  %+v\nwant %+v", e, want)
	}
	if got := e.RunDir([]int{3}); got != filepath.Join("results", "memae_mnist", "default", "seed_1", "target_3") {
		t.Errorf("RunDir = %s", got)
	}
	mc := e.ModelConfig(1)
	if mc != (models.Config{Arch: "mnist-flat", Kind: "memae", MemorySize: 10, ShrinkThreshold: 0.0025, CosineSimilarity: true,
		EntropyLoss: "thesis", EntropyLossWeight: 0.0002, NumConditions: 1, SelectionMetric: "sum"}) {
		t.Errorf("ModelConfig = %+v", mc)
	}
	// The defaults equal the model library's thesis defaults.
	def := models.DefaultConfig("mnist-flat", "memae")
	if mc != def {
		t.Errorf("ModelConfig %+v != models.DefaultConfig %+v", mc, def)
	}
	// Hydra's +key=value is accepted.
	if e2 := parse1(t, "+model=memae", "++datamodule=mnist"); !reflect.DeepEqual(e2, e) {
		t.Errorf("+key: %+v", e2)
	}
	// No arguments = the same defaults.
	if e2 := parse1(t); !reflect.DeepEqual(e2, e) {
		t.Errorf("Parse() = %+v", e2)
	}
}

func TestDefaultsCIFARAndGroups(t *testing.T) {
	e := parse1(t, "model=ae", "datamodule=cifar")
	if e.Model.Name != "ae" || e.Model.Arch != "cifar-flat" || e.Model.MemorySize != 125 || e.Datamodule.Name != "cifar" || e.Name != "ae_cifar" {
		t.Errorf("cifar: %+v", e)
	}
	if mc := e.ModelConfig(1); mc.MemorySize != models.DefaultConfig("cifar-flat", "memae").MemorySize {
		t.Errorf("cifar memory size %d", mc.MemorySize)
	}
	e = parse1(t, "datamodule=fashion-mnist")
	if e.Datamodule.Name != "fashion-mnist" || e.Model.Arch != "mnist-flat" {
		t.Errorf("fashion-mnist: %+v", e)
	}
}

func TestOverrides(t *testing.T) {
	e := parse1(t, "model=memae", "datamodule=mnist", "trainer.max_epochs=7", "datamodule.num_train_samples=50",
		"datamodule.batch_size=32", "model.memory_size=100", "model.shrink_threshold=0", "model.cosine_similarity=false",
		"model.entropy_loss_weight=0.001", "model.learning_rate=1e-3", "seed=3", "save_checkpoints_every_n_epochs=1",
		"model.arch=mnist", "model.entropy_loss=paper", "datamodule.test_batch_size=100", "datamodule.anomaly_fraction=0.5",
		"datamodule.data_dir=/tmp/d", "trainer.backend=go", "results_dir=/tmp/r", "datamodule.targets=[4]")
	m, d := e.Model, e.Datamodule
	if e.Trainer.MaxEpochs != 7 || d.NumTrainSamples != 50 || d.BatchSize != 32 || m.MemorySize != 100 ||
		m.ShrinkThreshold != 0 || m.CosineSimilarity || m.EntropyLossWeight != 0.001 || m.LearningRate != 0.001 ||
		e.Seed != 3 || e.SaveCheckpointsEveryNEpochs != 1 || m.Arch != "mnist" || m.EntropyLoss != "paper" ||
		d.TestBatchSize != 100 || d.AnomalyFraction != 0.5 || d.DataDir != "/tmp/d" || e.Trainer.Backend != "go" ||
		e.ResultsDir != "/tmp/r" || !reflect.DeepEqual(d.Targets, Targets{{4}}) {
		t.Errorf("overrides not applied: %+v", e)
	}
	// Slug: canonical key order, without seed/targets/paths/epochs.
	// (long slugs are cut at 200 bytes and end with a hash of the full text)
	want := "model.arch=mnist,model.memory_size=100,model.shrink_threshold=0,model.cosine_similarity=false," +
		"model.entropy_loss=paper,model.entropy_loss_weight=0.001,model.learning_rate=1e-3,datamodule.num_~7f807be5"
	if got := e.ParamsSlug(); got != want || len(got) != 200 {
		t.Errorf("slug\n got %s\nwant %s…", got, want)
	}
	e = parse1(t, "seed=4", "model.shrink_threshold=0", "datamodule.targets=[3]", "trainer.max_epochs=3", "model.memory_size=100")
	if got := e.ParamsSlug(); got != "model.memory_size=100,model.shrink_threshold=0" {
		t.Errorf("slug %s", got)
	}
}

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		args []string
		want Targets
	}{
		{[]string{"datamodule.targets=[0,1,2]"}, Targets{{0}, {1}, {2}}},
		{[]string{"datamodule.targets=5"}, Targets{{5}}},
		{[]string{"datamodule.targets=[[0,1],[4,5]]"}, Targets{{0, 1}, {4, 5}}},
		{[]string{"datamodule.targets=[[0,1],[4,5]]", "conditional=known"}, Targets{{0, 1}, {4, 5}}},
		{[]string{"datamodule.targets=[0,1,2]", "conditional=unknown"}, Targets{{0, 1, 2}}},
		{[]string{"datamodule.targets=[3,[1,7]]"}, Targets{{3}, {1, 7}}},
		{[]string{"conditional=known"}, Targets{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}},
	} {
		e := parse1(t, c.args...)
		if !reflect.DeepEqual(e.TargetGroups(), [][]int(c.want)) {
			t.Errorf("%q: targets %v, want %v", c.args, e.TargetGroups(), c.want)
		}
	}
	e := parse1(t, "datamodule.targets=[[1,7]]", "conditional=unknown")
	if n := e.NumConditions([]int{1, 7}); n != 2 {
		t.Errorf("NumConditions = %d", n)
	}
	if mc := e.ModelConfig(2); mc.NumConditions != 2 {
		t.Errorf("ModelConfig(2).NumConditions = %d", mc.NumConditions)
	}
}

func TestSweeps(t *testing.T) {
	exps, err := Parse("seed=1,2,3", "model.memory_size=10,50")
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 6 {
		t.Fatalf("%d experiments, want 6", len(exps))
	}
	var got []string
	dirs := map[string]bool{}
	for _, e := range exps {
		got = append(got, e.ParamsSlug()+"/"+filepath.Base(filepath.Dir(e.RunDir([]int{0}))))
		dirs[e.RunDir([]int{0})] = true
	}
	want := []string{
		"model.memory_size=10/seed_1", "model.memory_size=50/seed_1",
		"model.memory_size=10/seed_2", "model.memory_size=50/seed_2",
		"model.memory_size=10/seed_3", "model.memory_size=50/seed_3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sweep order %v", got)
	}
	if len(dirs) != 6 {
		t.Errorf("run directories not distinct: %v", dirs)
	}
	// Lists and sweeps of lists, sweeps over groups.
	exps, err = Parse("datamodule.targets=[[0,1]],[[4,5]]", "conditional=known,unknown", "model=memae,cond-ae")
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 8 {
		t.Fatalf("%d experiments, want 8", len(exps))
	}
	if e := exps[7]; e.Model.Name != "cond-ae" || e.Conditional != "unknown" || !reflect.DeepEqual(e.TargetGroups(), [][]int{{4, 5}}) ||
		e.Name != "cond-ae_mnist" || e.ParamsSlug() != "conditional=unknown" {
		t.Errorf("last = %v %+v", e, e)
	}
	exps, err = Parse("model.model_transformers=[delete_memory],[copy_samples,freeze]", "from_checkpoint=x", "datamodule.num_train_samples=5")
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 2 || !reflect.DeepEqual(exps[1].Model.ModelTransformers, []Transformer{"copy_samples", "freeze"}) {
		t.Fatalf("transformer sweep: %+v", exps)
	}
	if s := exps[1].ParamsSlug(); s != "model.model_transformers=copy_samples,freeze,datamodule.num_train_samples=5,from_checkpoint=x" {
		t.Errorf("slug %s", s)
	}
	// Variables in from_checkpoint.
	e := parse1(t, "from_checkpoint=${results_dir}/base/default/seed_${seed}/target_0", "seed=4", "results_dir=/r", "model.model_transformers=transfer")
	if e.FromCheckpoint != "/r/base/default/seed_4/target_0" || e.ParamsSlug() != "model.model_transformers=transfer,from_checkpoint=base_default_seed_seed_target_0" {
		t.Errorf("from_checkpoint %q slug %q", e.FromCheckpoint, e.ParamsSlug())
	}
	if _, err := Parse("from_checkpoint=${result_dir}/x"); err == nil || !strings.Contains(err.Error(), "unknown variable") {
		t.Errorf("bad variable: %v", err)
	}
}

func TestUnknownKeysAndValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model.memory_sise=5"}, `unknown key "model.memory_sise" (did you mean "model.memory_size"?)`},
		{[]string{"memory_size=5"}, `(did you mean "model.memory_size"?)`},
		{[]string{"trainer.max_epoch=5"}, `"trainer.max_epochs"`},
		{[]string{"model=mema"}, `unknown model "mema" (did you mean "memae"?); valid: ae, memae, cond-ae, multi-ae`},
		{[]string{"datamodule=cifar10"}, `did you mean "cifar"?`},
		{[]string{"model.arch=mnist_flat"}, `model.arch: "mnist_flat" (did you mean "mnist-flat"?)`},
		{[]string{"conditional=knwn"}, `did you mean "known"?`},
		{[]string{"model.model_transformers=[copy_sample]", "datamodule.num_train_samples=3"}, `did you mean "copy_samples"?`},
		{[]string{"memae"}, `did you mean model=memae?`},
		{[]string{"seed=1", "seed=2"}, "seed given twice"},
		{[]string{"model.memory_size=ten"}, "model.memory_size=ten: not an integer"},
		{[]string{"model.cosine_similarity=maybe"}, "model.cosine_similarity=maybe: not true or false"},
		{[]string{"model=memae", "trainer=5"}, `"trainer" is a section`},
		{[]string{"experiment=nope"}, `unknown experiment "nope"`},
		{[]string{"seed=1,,2"}, "empty value"},
		{[]string{"datamodule.targets=[[0,1]"}, "unbalanced"},
	} {
		_, err := Parse(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want containing %q", c.args, err, c.want)
		}
	}
}

func TestInvalidValues(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trainer.max_epochs=-1"}, "trainer.max_epochs: must be >= 1, got -1"},
		{[]string{"model.shrink_threshold=-0.1"}, "model.shrink_threshold: must be in [0, 1), got -0.1"},
		{[]string{"model.entropy_loss_weight=-1"}, "model.entropy_loss_weight: must be >= 0"},
		{[]string{"model.memory_size=0"}, "model.memory_size: must be >= 1"},
		{[]string{"model.learning_rate=0"}, "model.learning_rate: must be > 0"},
		{[]string{"model.arch=resnet"}, `unknown value for model.arch: "resnet"`},
		{[]string{"datamodule=cifar", "model.arch=mnist"}, `architecture "mnist" does not fit dataset cifar (use one of cifar, cifar-flat)`},
		{[]string{"datamodule.targets=[10]"}, "class 10 out of range 0..9"},
		{[]string{"datamodule.targets=[[1,1]]"}, "class 1 twice"},
		{[]string{"conditional=known", "datamodule.targets=[[1],[2,3]]"}, "at least two classes"},
		{[]string{"model=ae", "conditional=known"}, "model ae has no condition"},
		{[]string{"model=cond-ae"}, "model cond-ae needs conditional=known"},
		{[]string{"model=cond-ae", "conditional=known", "model.arch=mnist"}, "cond-ae needs a flat architecture"},
		{[]string{"model.model_transformers=[transfer]"}, "transformer transfer needs from_checkpoint"},
		{[]string{"model.model_transformers=copy_samples"}, "needs num_train_samples = k > 0"},
		{[]string{"datamodule.batch_size=0"}, "datamodule.batch_size: must be >= 1"},
		{[]string{"datamodule.anomaly_fraction=1"}, "datamodule.anomaly_fraction: must be in (0, 1)"},
		{[]string{"name=a/b"}, "name: must be a non-empty directory name"},
		{[]string{"save_checkpoints_every_n_epochs=0"}, "save_checkpoints_every_n_epochs: must be >= 1"},
		{[]string{"model.selection_metric=min"}, `unknown value for model.selection_metric: "min" (did you mean "max"?)`},
		// Keys the model would not read.
		{[]string{"model=ae", "model.shrink_threshold=0.1"}, "model.shrink_threshold: model ae has no memory, so model.shrink_threshold=0.1 would change nothing"},
		{[]string{"model=multi-ae", "conditional=known", "datamodule.targets=[[0,1]]", "model.memory_size=20"}, "model.memory_size: model multi-ae has no memory"},
		{[]string{"model=cond-ae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.cosine_similarity=false"}, "model cond-ae has no memory"},
		{[]string{"model.entropy_loss=paper", "model=ae"}, "model ae has no memory"},
		{[]string{"model=ae", "model.entropy_loss_weight=0"}, "model ae has no memory"},
		{[]string{"model.selection_metric=max"}, "only conditional=unknown self-selects, so model.selection_metric=max would change nothing with conditional=none"},
		{[]string{"conditional=known", "datamodule.targets=[[0,1]]", "model.selection_metric=recon"}, "with conditional=known (remove it, or set conditional=unknown)"},
		{[]string{"model=multi-ae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.selection_metric=sum"}, "model multi-ae self-selects by its reconstruction error only, so model.selection_metric=sum would change nothing"},
		{[]string{"model=multi-ae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.selection_metric=recon"}, "model multi-ae self-selects by its reconstruction error only"},
		{[]string{"model=cond-ae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.selection_metric=recon"}, "model cond-ae self-selects by its reconstruction error only"},
		{[]string{"model=ae", "model.selection_metric=max"}, "model ae has no memories to select from"},
	} {
		_, err := Parse(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want containing %q", c.args, err, c.want)
		}
	}
	// The keys a model reads are accepted.
	for _, args := range [][]string{
		{"model=memae", "model.shrink_threshold=0.1", "model.memory_size=20", "model.cosine_similarity=false", "model.entropy_loss=paper", "model.entropy_loss_weight=0"},
		{"model=memae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.selection_metric=max"},
		{"model=memae", "conditional=unknown", "datamodule.targets=[[0,1]]", "model.selection_metric=sum"},
	} {
		if _, err := Parse(args...); err != nil {
			t.Errorf("Parse(%q): %v", args, err)
		}
	}
	// Several problems are reported together.
	_, err := Parse("trainer.max_epochs=0", "model.learning_rate=-1")
	if err == nil || !strings.Contains(err.Error(), "trainer.max_epochs") || !strings.Contains(err.Error(), "model.learning_rate") {
		t.Errorf("joined errors: %v", err)
	}
}

func TestExperimentFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"sweepy.yaml": {Data: []byte(`description: a test experiment
defaults:
  datamodule: cifar
model:
  learning_rate: 0.001
trainer:
  max_epochs: 3
sweep:
  - model: [ae]
  - model: memae
    model.memory_size: [50, 100]
    datamodule.targets: ["[[0,1]]"]
    conditional: known
`)},
		"bad.yaml": {Data: []byte("model:\n  memory_sise: 3\n")},
	}
	p := &Parser{Experiments: fsys}
	exps, err := p.Parse("experiment=sweepy", "seed=2")
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 3 {
		t.Fatalf("%d experiments, want 3", len(exps))
	}
	var slugs []string
	for _, e := range exps {
		if e.Name != "sweepy" || e.Datamodule.Name != "cifar" || e.Model.LearningRate != 0.001 || e.Trainer.MaxEpochs != 3 || e.Seed != 2 {
			t.Errorf("experiment %+v", e)
		}
		slugs = append(slugs, e.ParamsSlug())
	}
	want := []string{"model=ae", "model=memae,model.memory_size=50,conditional=known", "model=memae,model.memory_size=100,conditional=known"}
	if !reflect.DeepEqual(slugs, want) {
		t.Errorf("slugs %q, want %q", slugs, want)
	}
	if e := exps[2]; e.Model.MemorySize != 100 || !reflect.DeepEqual(e.TargetGroups(), [][]int{{0, 1}}) || e.Model.Arch != "cifar-flat" {
		t.Errorf("third %+v", e)
	}
	// The command line beats the file's sweep. model=memae picks the block
	// that offers memae (not the [ae] one); model.memory_size=7, which no
	// block offers, replaces [50, 100].
	exps, err = p.Parse("experiment=sweepy", "model=memae", "model.memory_size=7")
	if err != nil || len(exps) != 1 || exps[0].Model.Name != "memae" || exps[0].Model.MemorySize != 7 || exps[0].Conditional != "known" {
		t.Fatalf("override of a swept key: %d exps, %v", len(exps), err)
	}
	// A value that one block offers: model.memory_size=100 keeps that block, narrowed.
	exps, err = p.Parse("experiment=sweepy", "model.memory_size=100")
	if err != nil || len(exps) != 1 || exps[0].Model.MemorySize != 100 {
		t.Fatalf("model.memory_size=100: %d exps, %v", len(exps), err)
	}
	// A value no block offers replaces the picked blocks' values: conditional=known
	// picks the second block, model=cond-ae replaces its memae, and its memory
	// sizes are refused for a conditional AE.
	if _, err := p.Parse("experiment=sweepy", "model=cond-ae", "conditional=known"); err == nil ||
		!strings.Contains(err.Error(), "model cond-ae has no memory") {
		t.Errorf("model=cond-ae, offered by no block: %v", err)
	}
	// A memory size for the file's AE is refused, not silently a second AE
	// directory, naming the sweep's values (the user did not type them).
	if _, err := p.Parse("experiment=sweepy", "model.memory_size=7"); err == nil ||
		!strings.Contains(err.Error(), "config: model.memory_size: model ae has no memory") || !strings.HasSuffix(err.Error(), "\n(in experiment sweepy's sweep configuration model=ae)") {
		t.Errorf("memory size for the sweep's AE: %v", err)
	}
	if _, err := p.Parse("experiment=bad"); err == nil || !strings.Contains(err.Error(), `line 2: config: unknown key "model.memory_sise" (did you mean "model.memory_size"?)`) {
		t.Errorf("bad file: %v", err)
	}
	if _, err := p.Parse("experiment=swepy"); err == nil || !strings.Contains(err.Error(), `did you mean "sweepy"?`) {
		t.Errorf("misspelt experiment: %v", err)
	}
	list, _ := p.ExperimentList()
	if len(list) != 2 || list[1].Name != "sweepy" || list[1].Description != "a test experiment" {
		t.Errorf("ExperimentList = %+v", list)
	}

	// A file on disk.
	path := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(path, []byte("seed: 9\nname: custom\n"), 0o644)
	e := parse1(t, "experiment="+path)
	if e.Seed != 9 || e.Name != "custom" {
		t.Errorf("disk file: %+v", e)
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	e := parse1(t, "datamodule.targets=[[1,7]]", "conditional=unknown", "model.memory_size=20")
	raw, err := e.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "targets: [[1, 7]]") || !strings.Contains(string(raw), "# params: model.memory_size=20,conditional=unknown") {
		t.Errorf("YAML:\n%s", raw)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, raw, 0o644)
	back, err := ReadExperiment(path)
	if err != nil {
		t.Fatal(err)
	}
	e.Params = nil
	if !reflect.DeepEqual(back, e) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, e)
	}
}

func TestKeysDocumented(t *testing.T) {
	for _, k := range Keys() {
		if k.Doc == "" {
			t.Errorf("key %s has no description", k.Name)
		}
	}
	if got := len(Keys()); got != 29 {
		t.Errorf("%d keys", got)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kitten", "sitting", 3}, {"memae", "memae", 0}, {"flaw", "lawn", 2}} {
		if got := levenshtein(c.a, c.b); got != c.d {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
	if n := nearest("zzzzzz", []string{"seed", "name"}); n != "" {
		t.Errorf("nearest of nonsense = %q", n)
	}
}

func TestTrainsLike(t *testing.T) {
	base := []string{"model=memae", "datamodule=mnist", "datamodule.targets=[[0,1]]"}
	with := func(args ...string) Experiment { return parse1(t, append(slices.Clone(base), args...)...) }
	known := with("conditional=known")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"conditional=known"}, true},
		{[]string{"conditional=unknown"}, true},
		{[]string{"conditional=unknown", "model.selection_metric=max"}, true},
		{[]string{"conditional=unknown", "name=other", "results_dir=elsewhere"}, true},
		{[]string{"conditional=none"}, false}, // one memory, not two
		{[]string{"conditional=unknown", "seed=2"}, false},
		{[]string{"conditional=unknown", "model.learning_rate=0.001"}, false},
		{[]string{"conditional=unknown", "trainer.max_epochs=3"}, false},
		{[]string{"conditional=unknown", "datamodule.test_batch_size=100"}, false}, // few-shot memory init batches
		{[]string{"conditional=unknown", "model.memory_size=20"}, false},
	} {
		o := with(tc.args...)
		if got := known.TrainsLike(o); got != tc.want {
			t.Errorf("TrainsLike(%q) = %v, want %v", tc.args, got, tc.want)
		}
		if got := o.TrainsLike(known); got != tc.want {
			t.Errorf("symmetric: %q.TrainsLike(known) = %v, want %v", tc.args, got, tc.want)
		}
	}
	other := known
	other.Datamodule.Targets = Targets{{4, 5}}
	if !known.TrainsLike(other) {
		t.Error("the configurations' target groups matter: the run's targets are the caller's to compare")
	}
	if a, b := parse1(t, "model=cond-ae", "conditional=known", "datamodule.targets=[[0,1]]"),
		parse1(t, "model=cond-ae", "conditional=unknown", "datamodule.targets=[[0,1]]"); !a.TrainsLike(b) {
		t.Error("conditional AE: known and unknown should train alike")
	}
	if a, b := parse1(t, "model=ae", "datamodule=mnist"), parse1(t, "model=memae", "datamodule=mnist"); a.TrainsLike(b) {
		t.Error("an AE trains like a MemAE")
	}
}
