package models

import (
	"slices"
	"testing"
)

// TestProblems checks that every invalid field is listed, each with its
// configuration key (package config reports them under these keys).
func TestProblems(t *testing.T) {
	c := DefaultConfig("mnist-flat", KindMemAE)
	if p := c.Problems(); len(p) != 0 {
		t.Fatalf("defaults: %v", p)
	}
	c.Arch, c.MemorySize, c.EntropyLoss = "resnet", 0, "gong"
	var keys []string
	for _, p := range c.Problems() {
		keys = append(keys, p.Key)
	}
	want := []string{"model.arch", "model.memory_size", "model.entropy_loss"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if got := c.Problems()[0]; got.Value != "resnet" || !slices.Contains(got.Valid, "mnist-flat") {
		t.Errorf("arch problem %+v, want the value and the valid names", got)
	}
}
