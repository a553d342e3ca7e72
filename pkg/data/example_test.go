package data_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/cmemae/cmemae/pkg/data"
)

// The one-class protocol on MNIST digit 0: train on the 5923 zeros, test on
// the 980 test zeros plus 420 anomalies from the other digits.
func ExampleNewOneClassSplit() {
	train, err := data.Load("mnist", data.Train, data.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	test, err := data.Load("mnist", data.Test, data.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	split, err := data.NewOneClassSplit(train, test, data.Protocol{Targets: []int{0}, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	ts := split.Tests[0]
	fmt.Println("train:", split.Train.Len(), "test:", ts.Len(), "normal:", ts.NumNormal())

	// One training epoch in shuffled mini-batches of 64.
	rng := rand.New(rand.NewPCG(1, 0))
	batches, last := 0, 0
	for b := range split.Train.Batches(64, true, rng) {
		batches, last = batches+1, b.Size
	}
	fmt.Println("batches:", batches, "last batch:", last)
	// Output:
	// train: 5923 test: 1400 normal: 980
	// batches: 93 last batch: 35
}
