package experiment

import (
	"fmt"

	"github.com/cmemae/cmemae/pkg/train"
)

// Groups partitions runs into groups that train alike, in plan order: each
// group lists run indices (ascending), and runs of one group have the same
// targets and configurations that differ only in how a run is evaluated
// (config.Experiment.TrainsLike). One training serves a whole group: the
// first run trains and the others are its train.Siblings, evaluated after
// every epoch into their own directories. Conditional known and unknown are
// such a pair: the two train the same model (training always uses the
// label), so conditional=known,unknown costs one training per target group.
// Groups are ordered by their first run; most runs are a group of one.
func Groups(runs []Run) [][]int {
	var groups [][]int
	index := map[string]int{} // training key and targets → group
	for i, r := range runs {
		k := r.Experiment.TrainingKey()
		if k == "" {
			groups = append(groups, []int{i})
			continue
		}
		k += fmt.Sprint(r.Targets)
		if g, ok := index[k]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		index[k] = len(groups)
		groups = append(groups, []int{i})
	}
	return groups
}

// siblings are the train.Siblings of the runs trained along with another.
func (d *Driver) siblings(along []Run) []train.Sibling {
	var out []train.Sibling
	for _, o := range along {
		o := o
		s := train.Sibling{Experiment: o.Experiment, Dir: o.Dir, Params: o.Experiment.ParamsSlug()}
		if d.OnEpoch != nil {
			s.OnEpoch = func(er train.EpochResult) { d.OnEpoch(o, er) }
		}
		out = append(out, s)
	}
	return out
}
