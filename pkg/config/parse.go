package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// Parser composes Experiments from arguments. The zero value knows the
// default groups and reads experiment=<file.yaml> from disk.
type Parser struct {
	// Experiments holds named experiment files, <name>.yaml, selectable with
	// experiment=<name> (experiment.NewParser passes the embedded catalogue).
	Experiments fs.FS
}

// Parse composes the Experiments selected by Hydra-style arguments with the
// default groups only (experiment=<path.yaml> is read from disk). See
// Parser.Parse.
func Parse(args ...string) ([]Experiment, error) { return (&Parser{}).Parse(args...) }

// SplitArg splits a key=value argument as Parse reads it: the key without
// surrounding space and without Hydra's leading + or ++ (add, force add:
// every key exists here), and the value as given. ok is false when arg has
// no "=".
func SplitArg(arg string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(arg, "=")
	return strings.TrimLeft(strings.TrimSpace(key), "+"), value, ok
}

// override is one key=value after sweep expansion.
type override struct {
	key, value string
	source     string // sourceCLI or the experiment file
}

// sourceCLI is the source of a command-line override.
const sourceCLI = "command line"

// Parse composes and validates the Experiments selected by args, each
// "key=value" (see the package documentation). Sweeps expand into the
// cartesian product, in argument order (the last key varies fastest).
func (p *Parser) Parse(args ...string) ([]Experiment, error) {
	type choice struct {
		key    string
		values []string
	}
	var choices []choice
	seen := map[string]bool{}
	for _, arg := range args {
		key, value, ok := SplitArg(arg)
		if !ok {
			return nil, p.notKeyValue(arg)
		}
		if err := checkKey(key); err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("config: %s given twice; use %s=a,b for a sweep", key, key)
		}
		seen[key] = true
		values, err := sweepValues(key, value)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", key, err)
		}
		choices = append(choices, choice{key, values})
	}
	count := 1
	for _, c := range choices {
		count = sweepSize(count, len(c.values))
	}
	if count > MaxConfigurations {
		return nil, fmt.Errorf("config: the sweeps expand to more than %d configurations; split the command into smaller sweeps", MaxConfigurations)
	}
	var out []Experiment
	combo := make([]override, len(choices))
	var expand func(i int) error
	expand = func(i int) error {
		if i == len(choices) {
			exps, err := p.compose(slices.Clone(combo))
			out = append(out, exps...)
			return err
		}
		for _, v := range choices[i].values {
			combo[i] = override{key: choices[i].key, value: v, source: sourceCLI}
			if err := expand(i + 1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := expand(0); err != nil {
		return nil, err
	}
	return out, nil
}

// notKeyValue explains an argument without "=".
func (p *Parser) notKeyValue(arg string) error {
	for group, names := range Groups() {
		if slices.Contains(names, arg) {
			return fmt.Errorf("config: argument %q is not key=value; did you mean %s=%s?", arg, group, arg)
		}
	}
	if names, _ := p.ExperimentNames(); slices.Contains(names, arg) {
		return fmt.Errorf("config: argument %q is not key=value; did you mean experiment=%s?", arg, arg)
	}
	if n := nearest(arg, allKeyNames()); n != "" {
		return fmt.Errorf("config: argument %q is not key=value; did you mean %s=…?", arg, n)
	}
	return fmt.Errorf("config: argument %q is not key=value", arg)
}

// checkKey rejects unknown keys, suggesting the nearest valid one.
func checkKey(key string) error {
	if key == KeyExperiment || key == GroupModel || key == GroupDatamodule || isLeafKey(key) {
		return nil
	}
	if isSectionKey(key) {
		return fmt.Errorf("config: %q is a section; set one of its keys, e.g. %s", key, firstKeyOf(key))
	}
	return unknownError("key", key, allKeyNames(), false)
}

func firstKeyOf(section string) string {
	for _, k := range leafKeys {
		if strings.HasPrefix(k, section+".") {
			return k + "=…"
		}
	}
	return section
}

// MaxConfigurations bounds the configurations one command or experiment file
// may expand to, so that a sweep cannot exhaust memory before anything runs.
const MaxConfigurations = 100000

// sweepSize is n·k, saturating above MaxConfigurations.
func sweepSize(n, k int) int {
	if k > 0 && n > (MaxConfigurations+1)/k {
		return MaxConfigurations + 1
	}
	return n * k
}

// sweepValues returns the values of key=value: a sweep a,b,c or
// choice(a,b,c) gives several, a path key (see IsPathKey) one, commas
// included, unless written choice(…).
func sweepValues(key, value string) ([]string, error) {
	trimmed := strings.TrimSpace(value)
	if inner, ok := strings.CutPrefix(trimmed, "choice("); ok && strings.HasSuffix(inner, ")") {
		values, err := splitSweep(strings.TrimSuffix(inner, ")"))
		if err != nil {
			return nil, err
		}
		if len(values) == 1 && values[0] == "" {
			return nil, fmt.Errorf("empty choice(); write choice(a,b)")
		}
		if slices.Contains(values, "") {
			return nil, fmt.Errorf("empty value in %q", value)
		}
		return values, nil
	}
	if IsPathKey(key) {
		return []string{value}, nil
	}
	if key == KeyExperiment {
		// A YAML file whose name contains a comma is one experiment.
		if st, err := os.Stat(value); err == nil && st.Mode().IsRegular() {
			return []string{value}, nil
		}
	}
	return splitSweep(value)
}

// splitSweep splits a value at commas outside brackets and quotes:
// "1,2" → [1 2]; "[[0,1],[4,5]]" → one value.
func splitSweep(value string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %q in %q", c, value)
			}
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(value[start:i]))
			start = i + 1
		}
	}
	if depth != 0 || quote != 0 {
		return nil, fmt.Errorf("unbalanced brackets or quotes in %q", value)
	}
	out = append(out, strings.TrimSpace(value[start:]))
	if len(out) > 1 && slices.Contains(out, "") {
		return nil, fmt.Errorf("empty value in sweep %q", value)
	}
	return out, nil
}

// file is a parsed YAML configuration file.
type file struct {
	source   string            // name for messages
	body     []byte            // the keys to decode into Experiment (no defaults/sweep)
	defaults map[string]string // group choices
	sweeps   [][]sweepChoice   // alternatives, each a cartesian product
	desc     string
}

type sweepChoice struct {
	key    string
	values []string
}

// compose builds the experiments of one combination of command-line values.
func (p *Parser) compose(cli []override) ([]Experiment, error) {
	var expFile *file
	var expName string
	for _, o := range cli {
		if o.key == KeyExperiment {
			f, name, err := p.loadExperiment(o.value)
			if err != nil {
				return nil, err
			}
			expFile, expName = f, name
		}
	}
	fileCombos := [][]override{nil}
	if expFile != nil && len(expFile.sweeps) > 0 {
		fileCombos = nil
		for _, product := range pickBlocks(expFile.sweeps, cli) {
			// Command-line values win over the file's sweep for the same key.
			product = slices.DeleteFunc(slices.Clone(product), func(s sweepChoice) bool {
				return slices.ContainsFunc(cli, func(c override) bool { return c.key == s.key })
			})
			count := 1
			for _, c := range product {
				count = sweepSize(count, len(c.values))
			}
			if count+len(fileCombos) > MaxConfigurations {
				return nil, fmt.Errorf("config: %s: the sweep expands to more than %d configurations; split it into smaller experiments", expFile.source, MaxConfigurations)
			}
			fileCombos = append(fileCombos, cartesian(product, expFile.source)...)
		}
	}
	var out []Experiment
	for _, fc := range fileCombos {
		ovs := append(slices.Clone(fc), cli...)
		e, err := p.composeOne(expFile, expName, ovs)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// pickBlocks returns the sweep blocks (the alternatives of a "sweep:" list)
// that the command-line values cli leave: a value for a key that some block
// sweeps with that value picks those blocks, and the others are left out
// (experiment=selection_conditional_mnist model=cond-ae keeps the block of
// the thesis's grid, not the one of C-MemAE's selection metrics). A value no
// block offers picks none: it replaces every block's values, as with one
// block.
func pickBlocks(blocks [][]sweepChoice, cli []override) [][]sweepChoice {
	offers := func(b []sweepChoice, o override) bool {
		return slices.ContainsFunc(b, func(c sweepChoice) bool { return c.key == o.key && slices.Contains(c.values, o.value) })
	}
	if len(blocks) < 2 {
		return blocks
	}
	picked := blocks
	for _, o := range cli {
		if !slices.ContainsFunc(picked, func(b []sweepChoice) bool { return offers(b, o) }) {
			continue
		}
		picked = slices.DeleteFunc(slices.Clone(picked), func(b []sweepChoice) bool { return !offers(b, o) })
	}
	return picked
}

func cartesian(product []sweepChoice, source string) [][]override {
	combos := [][]override{nil}
	for _, c := range product {
		var next [][]override
		for _, prefix := range combos {
			for _, v := range c.values {
				next = append(next, append(slices.Clone(prefix), override{key: c.key, value: v, source: source}))
			}
		}
		combos = next
	}
	return combos
}

// slugExcluded are keys that identify a run (seed, targets) or do not change
// its results (paths, backend, epochs and checkpoint interval, so that a run
// can be extended with more epochs); they are left out of params slugs.
var slugExcluded = map[string]bool{
	KeyExperiment: true, "seed": true, "datamodule.targets": true, "name": true, "results_dir": true,
	"datamodule.data_dir": true, "datamodule.test_batch_size": true, "trainer.backend": true,
	"trainer.max_epochs": true, "save_checkpoints_every_n_epochs": true,
}

func (p *Parser) composeOne(expFile *file, expName string, ovs []override) (Experiment, error) {
	base, err := readFile(defaultsFS, "defaults/config.yaml", "defaults/config.yaml")
	if err != nil {
		return Experiment{}, err
	}
	groups := map[string]string{}
	maps.Copy(groups, base.defaults)
	if expFile != nil {
		maps.Copy(groups, expFile.defaults)
	}
	for _, o := range ovs {
		if o.key == GroupModel || o.key == GroupDatamodule {
			groups[o.key] = o.value
		}
	}
	var e Experiment
	if err := decodeInto(&e, base); err != nil {
		return Experiment{}, err
	}
	for _, g := range []string{GroupModel, GroupDatamodule} {
		name := groups[g]
		if !slices.Contains(Groups()[g], name) {
			return Experiment{}, unknownError(g, name, Groups()[g], true)
		}
		f, err := readFile(defaultsFS, path.Join("defaults", g, name+".yaml"), g+"="+name)
		if err != nil {
			return Experiment{}, err
		}
		if err := decodeInto(&e, f); err != nil {
			return Experiment{}, err
		}
	}
	e.libraryDefaults()
	if expFile != nil {
		if err := decodeInto(&e, expFile); err != nil {
			return Experiment{}, err
		}
	}
	nameSet := false
	for _, o := range ovs {
		switch o.key {
		case KeyExperiment, GroupModel, GroupDatamodule:
			continue
		case "name":
			nameSet = true
		}
		if err := setKey(&e, o.key, o.value); err != nil {
			if o.source != sourceCLI {
				return Experiment{}, fmt.Errorf("%s: sweep: %w", o.source, err)
			}
			return Experiment{}, err
		}
	}
	derivedName := false
	if !nameSet && e.Name == "" {
		if expFile != nil {
			e.Name = expName
		} else {
			e.Name = e.Model.Name + "_" + e.Datamodule.Name
			derivedName = true
		}
	}
	for _, o := range ovs {
		if slugExcluded[o.key] {
			continue
		}
		if derivedName && (o.key == GroupModel || o.key == GroupDatamodule || o.key == "model.name" || o.key == "datamodule.name") {
			continue
		}
		value := o.value
		if o.key == "from_checkpoint" {
			// ${results_dir}/x/${seed}/… reads better as x/seed/….
			value = strings.NewReplacer("${results_dir}/", "", "${", "", "}", "").Replace(value)
		}
		e.Params = append(e.Params, results.Param{Key: o.key, Value: value})
	}
	e.FromCheckpoint = strings.NewReplacer("${results_dir}", e.ResultsDir, "${seed}", fmt.Sprint(e.Seed),
		"${name}", e.Name).Replace(e.FromCheckpoint)
	slices.SortStableFunc(e.Params, func(a, b results.Param) int { return keyIndex(a.Key) - keyIndex(b.Key) })
	e.normalizeTargets()
	if err := e.Validate(); err != nil {
		// Name the file sweep's values: the user did not type them.
		var swept []string
		for _, o := range ovs {
			if o.source != sourceCLI {
				swept = append(swept, o.key+"="+o.value)
			}
		}
		if len(swept) > 0 {
			return Experiment{}, fmt.Errorf("%w\n(in %s's sweep configuration %s)", err, expFile.source, strings.Join(swept, " "))
		}
		return Experiment{}, err
	}
	return e, nil
}

// libraryDefaults sets the defaults that the packages below define once
// (after the groups, before the experiment file and the overrides): the
// memory size of the group's architecture and, for memae, the memory's
// hyper-parameters from models.DefaultConfig; the anomaly fraction from
// package data.
func (e *Experiment) libraryDefaults() {
	d := models.DefaultConfig(e.Model.Arch, e.Model.Name)
	e.Model.MemorySize = d.MemorySize
	if e.Model.Name == models.KindMemAE {
		e.Model.ShrinkThreshold = d.ShrinkThreshold
		e.Model.CosineSimilarity = d.CosineSimilarity
		e.Model.EntropyLoss = d.EntropyLoss
		e.Model.EntropyLossWeight = d.EntropyLossWeight
		e.Model.SelectionMetric = d.SelectionMetric
	}
	e.Datamodule.AnomalyFraction = data.DefaultAnomalyFraction
}

// normalizeTargets turns the flat list of a conditional experiment ([0,1,2]
// decodes as [[0],[1],[2]]) into one group.
func (e *Experiment) normalizeTargets() {
	t := e.Datamodule.Targets
	if e.Conditional == models.CondNone || len(t) < 2 {
		return
	}
	var merged []int
	for _, g := range t {
		if len(g) != 1 {
			return
		}
		merged = append(merged, g[0])
	}
	e.Datamodule.Targets = Targets{merged}
}

// setKey sets one dotted key from its command-line text.
func setKey(e *Experiment, key, value string) error {
	f, ok := fieldByKey(e, key)
	if !ok {
		return unknownError("key", key, allKeyNames(), false)
	}
	switch f.Kind() {
	case reflect.String:
		s := value
		if s == "null" || s == "~" {
			s = ""
		}
		if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		}
		f.SetString(s)
		return nil
	case reflect.Slice:
		if value == "" || value == "null" || value == "~" {
			f.SetZero()
			return nil
		}
		if f.Type().Elem().Kind() == reflect.String && !strings.HasPrefix(value, "[") {
			value = "[" + value + "]"
		}
	}
	ptr := reflect.New(f.Type())
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(value), &node); err == nil {
		if err := checkInts(&node, f.Type(), key); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if err := yaml.Unmarshal([]byte(value), ptr.Interface()); err != nil {
		return fmt.Errorf("config: %s=%s: %s", key, value, valueProblem(f.Type(), err))
	}
	if value == "" {
		return fmt.Errorf("config: %s: empty value", key)
	}
	f.Set(ptr.Elem())
	return nil
}

// valueProblem describes what a key of type t expects.
func valueProblem(t reflect.Type, err error) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "not an integer"
	case reflect.Float64:
		return "not a number"
	case reflect.Bool:
		return "not true or false"
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	return msg
}

// loadExperiment reads experiment=<value>: a named file of p.Experiments or
// a YAML file on disk.
func (p *Parser) loadExperiment(value string) (*file, string, error) {
	if p.Experiments != nil {
		if _, err := fs.Stat(p.Experiments, value+".yaml"); err == nil {
			f, err := readFile(p.Experiments, value+".yaml", "experiment "+value)
			return f, value, err
		}
	}
	if strings.HasSuffix(value, ".yaml") || strings.HasSuffix(value, ".yml") || strings.ContainsRune(value, filepath.Separator) {
		if st, err := os.Stat(value); err == nil && st.IsDir() {
			names, _ := p.ExperimentNames()
			return nil, "", fmt.Errorf("config: experiment=%s is a directory; give a YAML file (e.g. %s) or an experiment name (%s)",
				value, filepath.Join(value, "my_experiment.yaml"), strings.Join(names, ", "))
		}
		raw, err := readExperimentFile(value)
		if err != nil {
			return nil, "", err
		}
		f, err := parseFile(raw, value)
		if err != nil {
			return nil, "", err
		}
		base := filepath.Base(value)
		return f, strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml"), nil
	}
	names, _ := p.ExperimentNames()
	return nil, "", unknownError("experiment", value, names, true)
}

// maxExperimentFile bounds the size of an experiment file read from disk.
const maxExperimentFile = 1 << 20

// readExperimentFile reads experiment=<path>: a regular file of at most
// maxExperimentFile bytes (not /dev/zero, a FIFO or a huge file by mistake).
func readExperimentFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: experiment=%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config: experiment=%s is not a regular file (%s); give a YAML file", path, st.Mode().Type())
	}
	if st.Size() > maxExperimentFile {
		return nil, fmt.Errorf("config: experiment=%s has %d bytes; experiment files are small YAML files (at most %d bytes)", path, st.Size(), maxExperimentFile)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: experiment=%s: %w", path, err)
	}
	return raw, nil
}

// ExperimentInfo is a named experiment file.
type ExperimentInfo struct {
	Name, Description string
}

// ExperimentNames lists the names of p.Experiments.
func (p *Parser) ExperimentNames() ([]string, error) {
	infos, err := p.ExperimentList()
	names := make([]string, len(infos))
	for i, in := range infos {
		names[i] = in.Name
	}
	return names, err
}

// ExperimentList lists p.Experiments with their description: lines.
func (p *Parser) ExperimentList() ([]ExperimentInfo, error) {
	if p.Experiments == nil {
		return nil, nil
	}
	matches, err := fs.Glob(p.Experiments, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("config: listing experiments: %w", err)
	}
	var out []ExperimentInfo
	var errs []error
	for _, m := range matches {
		name := strings.TrimSuffix(m, ".yaml")
		f, err := readFile(p.Experiments, m, "experiment "+name)
		if err != nil {
			errs = append(errs, err)
		}
		info := ExperimentInfo{Name: name}
		if f != nil {
			info.Description = f.desc
		}
		out = append(out, info)
	}
	return out, errors.Join(errs...)
}

// readFile parses a configuration file: its keys are checked against the
// known ones (naming the line and suggesting the nearest key), and
// "defaults", "sweep" and "description" are taken out.
func readFile(fsys fs.FS, name, source string) (*file, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", source, err)
	}
	return parseFile(raw, source)
}

// parseFile parses the text of a configuration file (see readFile); source
// names it in messages.
func parseFile(raw []byte, source string) (*file, error) {
	var err error
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config: %s: %w", source, err)
	}
	f := &file{source: source, defaults: map[string]string{}}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: %s: line %d: expected a mapping of keys", source, root.Line)
	}
	body := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "defaults":
			if err := readDefaults(v, f); err != nil {
				return nil, fmt.Errorf("config: %s: %w", source, err)
			}
		case "sweep":
			if err := readSweep(v, f); err != nil {
				return nil, fmt.Errorf("config: %s: %w", source, err)
			}
		case "description":
			f.desc = strings.TrimSpace(v.Value)
		default:
			if err := checkNode(k.Value, k, v); err != nil {
				return nil, fmt.Errorf("%w (in %s)", err, source)
			}
			body.Content = append(body.Content, k, v)
		}
	}
	if err := checkInts(body, reflect.TypeFor[Experiment](), ""); err != nil {
		line := 0
		if ie := (*intError)(nil); errors.As(err, &ie) {
			line = ie.node.Line
		}
		return nil, fmt.Errorf("config: %s: line %d: %w", source, line, err)
	}
	if len(body.Content) > 0 {
		if f.body, err = yaml.Marshal(body); err != nil {
			return nil, fmt.Errorf("config: %s: %w", source, err)
		}
	}
	return f, nil
}

// checkNode verifies that key (dotted) and its children are known keys.
func checkNode(key string, k, v *yaml.Node) error {
	if isLeafKey(key) {
		return nil
	}
	if isSectionKey(key) {
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("config: line %d: %s must be a mapping of keys", k.Line, key)
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			if err := checkNode(key+"."+v.Content[i].Value, v.Content[i], v.Content[i+1]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: %w", k.Line, unknownError("key", key, leafKeys, false))
}

func readDefaults(v *yaml.Node, f *file) error {
	if v.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: defaults must map groups to names, e.g. {model: memae}", v.Line)
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		g, name := v.Content[i].Value, v.Content[i+1].Value
		if g != GroupModel && g != GroupDatamodule {
			return fmt.Errorf("line %d: %w", v.Content[i].Line, unknownError("group", g, []string{GroupModel, GroupDatamodule}, true))
		}
		f.defaults[g] = name
	}
	return nil
}

// readSweep reads "sweep:" — a mapping key → values (a list, or a string
// split like a command-line sweep) or a list of such mappings.
func readSweep(v *yaml.Node, f *file) error {
	var products []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		products = []*yaml.Node{v}
	case yaml.SequenceNode:
		products = v.Content
	default:
		return fmt.Errorf("line %d: sweep must be a mapping or a list of mappings", v.Line)
	}
	for _, m := range products {
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: sweep entry must be a mapping of key to values", m.Line)
		}
		var product []sweepChoice
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, vals := m.Content[i], m.Content[i+1]
			if err := checkKey(k.Value); err != nil {
				return fmt.Errorf("line %d: %w", k.Line, err)
			}
			if k.Value == KeyExperiment {
				return fmt.Errorf("line %d: an experiment file cannot sweep experiment", k.Line)
			}
			var values []string
			switch vals.Kind {
			case yaml.SequenceNode:
				for _, item := range vals.Content {
					s, err := nodeText(item)
					if err != nil {
						return err
					}
					values = append(values, s)
				}
			case yaml.ScalarNode:
				var err error
				if values, err = sweepValues(k.Value, vals.Value); err != nil {
					return fmt.Errorf("line %d: %s: %w", vals.Line, k.Value, err)
				}
			default:
				return fmt.Errorf("line %d: sweep values of %s must be a list", vals.Line, k.Value)
			}
			if len(values) == 0 {
				return fmt.Errorf("line %d: empty sweep for %s", vals.Line, k.Value)
			}
			product = append(product, sweepChoice{key: k.Value, values: values})
		}
		f.sweeps = append(f.sweeps, product)
	}
	return nil
}

// nodeText renders a YAML value as command-line text (flow style for lists).
func nodeText(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode {
		return n.Value, nil
	}
	c := *n
	c.Style = yaml.FlowStyle
	setFlow(&c)
	out, err := yaml.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("line %d: %w", n.Line, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func setFlow(n *yaml.Node) {
	n.Style = yaml.FlowStyle
	for _, c := range n.Content {
		setFlow(c)
	}
}

// decodeInto layers a file's keys over e (absent keys keep their values).
func decodeInto(e *Experiment, f *file) error {
	if len(f.body) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(f.body))
	dec.KnownFields(true)
	if err := dec.Decode(e); err != nil {
		return fmt.Errorf("config: %s: %s", f.source, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))
	}
	return nil
}

// ReadExperiment reads a resolved configuration written by Experiment.YAML
// (a run's config.yaml).
func ReadExperiment(path string) (Experiment, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Experiment{}, fmt.Errorf("config: reading %s: %w", path, err)
	}
	var e Experiment
	if err := decodeStrict(raw, &e, "", true); err != nil {
		return Experiment{}, fmt.Errorf("config: decoding %s: %w", path, err)
	}
	return e, nil
}
