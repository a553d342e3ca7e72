package config

import (
	"strings"
	"testing"
)

// TestValidateTransformers checks model.model_transformers: every listed
// name is accepted, an unknown one is named with the valid list.
func TestValidateTransformers(t *testing.T) {
	e := parse1(t, "datamodule.targets=[[0,1]]", "conditional=known", "datamodule.num_train_samples=8", "from_checkpoint=/ckpt")
	for _, tr := range Transformers {
		e.Model.ModelTransformers = []Transformer{tr}
		if err := e.ValidateRun([]int{0, 1}); err != nil {
			t.Errorf("%s rejected: %v", tr, err)
		}
	}
	e.Model.ModelTransformers = []Transformer{TransformTransfer, "delete_memmory"}
	err := e.ValidateRun([]int{0, 1})
	if err == nil || !strings.Contains(err.Error(), `"delete_memmory"`) || !strings.Contains(err.Error(), "delete_memory") ||
		!strings.Contains(err.Error(), "model.model_transformers") {
		t.Errorf("err = %v, want the key, the bad name and the valid list", err)
	}
}

// TestTransformerNeeds checks the needs of the transformers, as errors naming
// the key to set.
func TestTransformerNeeds(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model.model_transformers=[delete_memory]"}, "transformer delete_memory needs from_checkpoint="},
		{[]string{"model.model_transformers=[copy_samples]"}, "datamodule.num_train_samples: transformer copy_samples needs num_train_samples = k > 0"},
		{[]string{"model=ae", "model.model_transformers=[copy_samples]", "datamodule.num_train_samples=4"}, "needs a memory model (model=memae), got model=ae"},
	} {
		_, err := Parse(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}
