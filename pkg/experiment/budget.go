package experiment

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cmemae/cmemae/pkg/config"
)

// KeyBudget selects a budget overlay: budget=<name> (see [Budget]).
const KeyBudget = "budget"

// Budgets: full is the experiment as the thesis ran it.
const (
	BudgetQuick = "quick" // a few minutes per notebook on 2 CPU cores (CI)
	BudgetCPU   = "cpu"   // the thesis's hyper-parameters, 5 epochs, one seed
	BudgetFull  = "full"  // the thesis's scale: no overrides
)

// Budget is a budget overlay of the catalogue (catalogue/budget/<name>.yaml):
// key=value overrides applied after the experiment file and before the
// user's own arguments. Parse applies them with these rules:
//
//   - a key the user gives keeps the user's value;
//   - a key the experiment file sweeps keeps its sweep (a budget scales an
//     experiment, it does not change what it compares), except seed: a
//     budget's seed replaces the thesis's seed sweep;
//   - budget keys stay out of the run's <params> directory name, so that
//     ${results_dir}/baseline_mnist/model=memae,… paths of other experiments
//     resolve within the same budget; instead every budget but full writes
//     to <results_dir>/<budget> (results/quick, results/cpu), never among the
//     thesis-scale runs.
type Budget struct {
	Name        string
	Description string
	// Overrides are the budget's key=value pairs, in file order.
	Overrides []string
}

// Budgets lists the budget overlays of the catalogue, sorted by name.
func Budgets() ([]Budget, error) {
	matches, err := fs.Glob(Catalogue, "budget/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("experiment: listing budgets: %w", err)
	}
	var out []Budget
	for _, m := range matches {
		b, err := LoadBudget(strings.TrimSuffix(path.Base(m), ".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// BudgetNames lists the names of the budgets (full, cpu, quick, …).
func BudgetNames() []string {
	matches, _ := fs.Glob(Catalogue, "budget/*.yaml")
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = strings.TrimSuffix(path.Base(m), ".yaml")
	}
	return names
}

// LoadBudget reads the budget overlay name from the catalogue.
func LoadBudget(name string) (Budget, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return Budget{}, fmt.Errorf("experiment: budget=%q: give one of %s", name, strings.Join(BudgetNames(), ", "))
	}
	raw, err := fs.ReadFile(Catalogue, "budget/"+name+".yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return Budget{}, fmt.Errorf("experiment: budget=%s is not a budget; give one of %s", name, strings.Join(BudgetNames(), ", "))
	}
	if err != nil {
		return Budget{}, fmt.Errorf("experiment: budget=%s: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return Budget{}, fmt.Errorf("experiment: budget %s: %w", name, err)
	}
	b := Budget{Name: name}
	if len(doc.Content) == 0 {
		return b, nil
	}
	var walk func(prefix string, n *yaml.Node) error
	walk = func(prefix string, n *yaml.Node) error {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("experiment: budget %s: line %d: expected key: value pairs", name, n.Line)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			switch {
			case prefix == "" && k == "description":
				b.Description = v.Value
			case v.Kind == yaml.MappingNode:
				if err := walk(key, v); err != nil {
					return err
				}
			case v.Kind == yaml.ScalarNode:
				b.Overrides = append(b.Overrides, key+"="+v.Value)
			case v.Kind == yaml.SequenceNode:
				v.Style = yaml.FlowStyle
				out, err := yaml.Marshal(v)
				if err != nil {
					return fmt.Errorf("experiment: budget %s: %s: %w", name, key, err)
				}
				b.Overrides = append(b.Overrides, key+"="+strings.ReplaceAll(strings.TrimSpace(string(out)), " ", ""))
			default:
				return fmt.Errorf("experiment: budget %s: line %d: %s: unsupported value", name, v.Line, key)
			}
		}
		return nil
	}
	if err := walk("", doc.Content[0]); err != nil {
		return Budget{}, err
	}
	return b, nil
}

// SplitBudget takes budget=<name> out of args: it returns the budget name
// ("" when absent) and the other arguments.
func SplitBudget(args []string) (budget string, rest []string, err error) {
	for _, a := range args {
		k, v, _ := config.SplitArg(a)
		if k != KeyBudget {
			rest = append(rest, a)
			continue
		}
		if budget != "" {
			return "", nil, fmt.Errorf("experiment: budget given twice; give one of %s", strings.Join(BudgetNames(), ", "))
		}
		if budget = strings.TrimSpace(v); budget == "" {
			return "", nil, fmt.Errorf("experiment: budget= is empty; give one of %s", strings.Join(BudgetNames(), ", "))
		}
	}
	return budget, rest, nil
}

// sweptKeys returns the keys an experiment file sweeps (its "sweep:"
// mapping, or list of mappings): a name of the Catalogue or a YAML file.
// Unreadable files give no keys; config.Parse reports them.
func sweptKeys(value string) map[string]bool {
	raw, err := fs.ReadFile(Catalogue, value+".yaml")
	if err != nil {
		st, serr := os.Stat(value)
		if serr != nil || !st.Mode().IsRegular() || st.Size() > 1<<20 {
			return nil
		}
		if raw, err = os.ReadFile(value); err != nil {
			return nil
		}
	}
	var doc struct {
		Sweep yaml.Node `yaml:"sweep"`
	}
	if yaml.Unmarshal(raw, &doc) != nil {
		return nil
	}
	keys := map[string]bool{}
	maps := []*yaml.Node{&doc.Sweep}
	if doc.Sweep.Kind == yaml.SequenceNode {
		maps = doc.Sweep.Content
	}
	for _, m := range maps {
		if m.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i < len(m.Content); i += 2 {
			keys[m.Content[i].Value] = true
		}
	}
	return keys
}

// withBudget expands budget=<name> in args into the budget's overrides
// (see [Budget] for the rules). It returns the arguments for config.Parse
// and the budget keys applied (to be left out of the params slugs).
func withBudget(args []string) (out []string, applied map[string]bool, err error) {
	name, rest, err := SplitBudget(args)
	if err != nil || name == "" {
		return rest, nil, err
	}
	b, err := LoadBudget(name)
	if err != nil {
		return nil, nil, err
	}
	user := map[string]bool{}
	swept := map[string]bool{}
	resultsDir := ""
	for _, a := range rest {
		k, v, _ := config.SplitArg(a)
		user[k] = true
		switch k {
		case config.KeyExperiment:
			if strings.HasPrefix(v, "budget/") {
				return nil, nil, fmt.Errorf("experiment: experiment=%s is a budget; give it as budget=%s", v, strings.TrimPrefix(v, "budget/"))
			}
			for _, e := range strings.Split(v, ",") {
				for s := range sweptKeys(strings.TrimSpace(e)) {
					swept[s] = true
				}
			}
		case config.KeyResultsDir:
			resultsDir = v
		}
	}
	applied = map[string]bool{}
	var overlay []string
	for _, o := range b.Overrides {
		k, _, _ := config.SplitArg(o)
		if user[k] || (swept[k] && k != "seed") {
			continue
		}
		applied[k] = true
		overlay = append(overlay, o)
	}
	if name != BudgetFull {
		if strings.HasPrefix(resultsDir, "choice(") {
			return nil, nil, fmt.Errorf("experiment: budget=%s writes to <results_dir>/%s; give one results_dir, not a sweep", name, name)
		}
		if resultsDir == "" {
			exps, err := config.Parse()
			if err != nil {
				return nil, nil, err
			}
			resultsDir = exps[0].ResultsDir
		}
		rest = slices.DeleteFunc(rest, func(a string) bool { k, _, _ := config.SplitArg(a); return k == config.KeyResultsDir })
		overlay = append(overlay, "results_dir="+filepath.Join(resultsDir, name))
	}
	return append(overlay, rest...), applied, nil
}
