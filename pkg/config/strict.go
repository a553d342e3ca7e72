package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The YAML decoder truncates a float such as 10.5 into an integer field
// (10), so values for integer keys are checked on the parsed YAML nodes
// before decoding: only YAML integers are accepted.

// pathKeys hold file system paths. Their values are never split at commas
// (run directories printed by the command contain commas, and they must be
// accepted back as they are); a sweep over paths is written explicitly as
// key=choice(a,b).
var pathKeys = map[string]bool{
	"results_dir":         true,
	"from_checkpoint":     true,
	"datamodule.data_dir": true,
}

// IsPathKey reports whether key holds a path: its value is taken whole, commas
// included; sweep it with key=choice(a,b).
func IsPathKey(key string) bool { return pathKeys[key] }

// intError is a non-integer value given for an integer key.
type intError struct {
	key  string
	node *yaml.Node
}

func (e *intError) Error() string {
	v := e.node.Value
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err == nil && f == math.Trunc(f) && math.Abs(f) >= math.MaxInt64:
		return fmt.Sprintf("%s: %q is too large for an integer", e.key, v)
	case err == nil && f == math.Trunc(f):
		return fmt.Sprintf("%s: %q is not written as an integer; write %d", e.key, v, int64(f))
	}
	return fmt.Sprintf("%s: %q is not a whole number; the key takes integers only (no fractions), e.g. %s=10", e.key, v, e.key)
}

// checkInts walks a YAML node decoded into type t and rejects every value of
// an integer field that is not a YAML integer (10.5, 1e3, .inf). key is the
// dotted key of n, for messages.
func checkInts(n *yaml.Node, t reflect.Type, key string) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := checkInts(c, t, key); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t == reflect.TypeFor[Targets]() {
		return nil // Targets.UnmarshalYAML checks its classes itself.
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return &intError{key: key, node: n}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			name := n.Content[i].Value
			for f := range t.Fields() {
				if strings.Split(f.Tag.Get("yaml"), ",")[0] == name {
					sub := name
					if key != "" {
						sub = key + "." + name
					}
					if err := checkInts(n.Content[i+1], f.Type, sub); err != nil {
						return err
					}
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for _, c := range n.Content {
			if err := checkInts(c, t.Elem(), key); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeStrict decodes raw YAML into out (a pointer) after checkInts;
// knownFields rejects keys that out does not have.
func decodeStrict(raw []byte, out any, key string, knownFields bool) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	if err := checkInts(&doc, reflect.TypeOf(out).Elem(), key); err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if !knownFields {
		return doc.Decode(out)
	}
	// yaml.Node.Decode has no KnownFields option: decode the checked text
	// again with a strict decoder.
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	return dec.Decode(out)
}

// checkControlChars reports the first string value of e (dotted key) that
// holds a control character: such values cannot be written to config.yaml
// and read back, and are never meant.
func checkControlChars(e *Experiment) error {
	var walk func(v reflect.Value, key string) error
	walk = func(v reflect.Value, key string) error {
		switch v.Kind() {
		case reflect.String:
			for _, r := range v.String() {
				if unicode.IsControl(r) {
					return fmt.Errorf("config: %s: %q contains the control character %U; remove it", key, v.String(), r)
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				if err := walk(v.Index(i), key); err != nil {
					return err
				}
			}
		case reflect.Struct:
			for i := range v.NumField() {
				tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
				if tag == "" || tag == "-" {
					continue
				}
				sub := tag
				if key != "" {
					sub = key + "." + tag
				}
				if err := walk(v.Field(i), sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(reflect.ValueOf(e).Elem(), "")
}
