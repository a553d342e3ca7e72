package config

import "slices"

// Transformer names a few-shot memory initialisation ("model transformer"),
// the values of model.model_transformers, applied in the order listed.
// Package train implements them.
type Transformer string

// The model transformers, in the order of the thesis's few-shot figure.
const (
	TransformTransfer             Transformer = "transfer"               // start from from_checkpoint, keep everything
	TransformDeleteMemory         Transformer = "delete_memory"          // re-initialise the memory (uniform in ±1/√C), same number and size N
	TransformCopySamples          Transformer = "copy_samples"           // the k encoded samples become the memory (N = k)
	TransformCopyBestFitting      Transformer = "copy_best_fitting"      // per sample, the best-fitting item of the (conditional) memories (N = k)
	TransformConditionalToDeleted Transformer = "conditional_to_deleted" // conditional memories → one fresh memory of size N
	TransformFreeze               Transformer = "freeze"                 // no weight changes: every epoch only evaluates
)

// Transformers lists the valid model transformers.
var Transformers = []Transformer{TransformTransfer, TransformDeleteMemory, TransformCopySamples,
	TransformCopyBestFitting, TransformConditionalToDeleted, TransformFreeze}

// NeedsCheckpoint reports whether t acts on a trained model: from_checkpoint
// must be set.
func (t Transformer) NeedsCheckpoint() bool {
	return slices.Contains([]Transformer{TransformTransfer, TransformDeleteMemory, TransformCopyBestFitting, TransformConditionalToDeleted}, t)
}

// NeedsSamples reports whether t builds the memory from the k few-shot
// training samples: datamodule.num_train_samples must be k > 0.
func (t Transformer) NeedsSamples() bool {
	return t == TransformCopySamples || t == TransformCopyBestFitting
}

// NeedsMemory reports whether t changes the memory: the model must be memae.
func (t Transformer) NeedsMemory() bool {
	return slices.Contains([]Transformer{TransformDeleteMemory, TransformCopySamples, TransformCopyBestFitting, TransformConditionalToDeleted}, t)
}
