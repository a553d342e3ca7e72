package train_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/train"
)

// One run, as `go run ./thesis_experiments …` makes them: a MemAE with digit 1 as
// the normal class, trained on 128 of its images for three epochs on the pure-Go
// backend (a few seconds), each epoch evaluated on 200 images of digit 1's
// one-class test set (70 % ones, 30 % other digits). The run writes
// config.yaml, metrics.csv and its checkpoints under Dir; the same seed gives the
// same numbers.
func ExampleRun() {
	exps, err := config.Parse("model=memae", "datamodule=mnist", "datamodule.targets=[1]",
		"datamodule.num_train_samples=128", "datamodule.batch_size=16", "model.learning_rate=0.003",
		"trainer.max_epochs=3", "trainer.backend=go", "seed=1")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "cmemae-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	e := exps[0]
	res, err := train.Run(context.Background(), train.Options{
		Experiment: e, Targets: e.Datamodule.Targets[0], Dir: dir, MaxTestImages: 200,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, ep := range res.Epochs {
		m := ep.PerTarget[0]
		fmt.Printf("epoch %d: target %d, %d normal + %d anomalous test images, loss %.2f, AUROC %.2f\n",
			ep.Epoch, m.Target, m.NumNormal, m.NumAnomalous, ep.TrainLoss, m.AUROC)
	}
	checkpoints, err := train.ListCheckpoints(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range checkpoints {
		fmt.Println("checkpoint", c.Name)
	}
	// Output:
	// epoch 1: target 1, 140 normal + 60 anomalous test images, loss 1.05, AUROC 0.85
	// epoch 2: target 1, 140 normal + 60 anomalous test images, loss 0.49, AUROC 0.85
	// epoch 3: target 1, 140 normal + 60 anomalous test images, loss 0.37, AUROC 0.87
	// checkpoint init
	// checkpoint epoch_0003
}
