package models

// Conditional says how the condition of a run is given: the configuration
// key "conditional" (config.Experiment.Conditional), the checkpoint state and
// the mode of Model.Forward. Its text forms "none", "known" and "unknown" are
// those of config.yaml and state.json.
type Conditional string

const (
	// CondNone: no condition, one model per target class (plain AE / MemAE).
	// A conditional model treats it as CondUnknown; "" means CondNone.
	CondNone Conditional = "none"
	// CondKnown: the condition picks the memory (C-MemAE) or AE; in Forward,
	// cond [B] int32 gives each sample's condition (its class in training).
	CondKnown Conditional = "known"
	// CondUnknown: the memory (or AE) self-selects: memory metric, or lowest
	// reconstruction error.
	CondUnknown Conditional = "unknown"
)

// Conditionals lists the valid values of Conditional.
var Conditionals = []Conditional{CondNone, CondKnown, CondUnknown}

// IsConditional reports whether c gives a model one memory (or AE) per
// condition: known or unknown.
func (c Conditional) IsConditional() bool { return c == CondKnown || c == CondUnknown }
