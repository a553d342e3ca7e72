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

// Trainings follows the trainings of a plan (Groups) while its runs are
// trained in order: which runs to train along with a run, and which runs an
// earlier training has already trained. Driver.RunAll and the command line
// share it.
type Trainings struct {
	runs   []Run
	groups int     // how many
	group  [][]int // run → the runs of its group
	along  map[int]trainedAlong
}

// trainedAlong is a run an earlier training trained: that training's run
// and the run's result.
type trainedAlong struct {
	first int
	res   *train.RunResult
}

// NewTrainings groups runs (Groups).
func NewTrainings(runs []Run) *Trainings {
	t := &Trainings{runs: runs, group: make([][]int, len(runs)), along: map[int]trainedAlong{}}
	groups := Groups(runs)
	t.groups = len(groups)
	for _, g := range groups {
		for _, i := range g {
			t.group[i] = g
		}
	}
	return t
}

// Len is the number of trainings: of groups.
func (t *Trainings) Len() int { return t.groups }

// First is the first run of run i's group: i itself for a run that trains,
// the run whose training it shares otherwise.
func (t *Trainings) First(i int) int { return t.group[i][0] }

// Along lists the runs to train along with run i: the later runs of its
// group that are neither complete nor trained along already.
func (t *Trainings) Along(i int) []int {
	var out []int
	for _, j := range t.group[i] {
		if _, done := t.along[j]; j > i && !done && !t.runs[j].Complete() {
			out = append(out, j)
		}
	}
	return out
}

// Record notes which runs of along (Along(i)) the training of run i, with
// result res (nil after an error), trained along: res.Siblings.
func (t *Trainings) Record(i int, along []int, res *train.RunResult) {
	if res == nil {
		return
	}
	for k, j := range along {
		if k < len(res.Siblings) && res.Siblings[k] != nil {
			t.along[j] = trainedAlong{first: i, res: res.Siblings[k]}
		}
	}
}

// TrainedAlong reports whether run j was trained along with an earlier run:
// that run and j's result.
func (t *Trainings) TrainedAlong(j int) (first int, res *train.RunResult, ok bool) {
	a, ok := t.along[j]
	return a.first, a.res, ok
}
