package results

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDirAndTargets(t *testing.T) {
	got := RunDir("results", "baseline_mnist", "", 3, []int{1, 7})
	want := filepath.Join("results", "baseline_mnist", "default", "seed_3", "target_1-7")
	if got != want {
		t.Errorf("RunDir = %q, want %q", got, want)
	}
	ts, err := ParseTarget("1-7")
	if err != nil || len(ts) != 2 || ts[0] != 1 || ts[1] != 7 {
		t.Errorf("ParseTarget(1-7) = %v, %v", ts, err)
	}
	if _, err := ParseTarget("a"); err == nil {
		t.Error("ParseTarget(a): want error")
	}
}

func TestParamsSlug(t *testing.T) {
	if got := ParamsSlug(nil); got != "default" {
		t.Errorf("ParamsSlug(nil) = %q", got)
	}
	got := ParamsSlug([]Param{{"model.memory_size", "50"}, {"model.model_transformers", "[copy_samples,freeze]"}, {"from_checkpoint", "results/a b/x"}})
	want := "model.memory_size=50,model.model_transformers=copy_samples,freeze,from_checkpoint=results_a_b_x"
	if got != want {
		t.Errorf("ParamsSlug = %q, want %q", got, want)
	}
	long1 := ParamsSlug([]Param{{"from_checkpoint", strings.Repeat("x", 300) + "1"}})
	long2 := ParamsSlug([]Param{{"from_checkpoint", strings.Repeat("x", 300) + "2"}})
	if len(long1) != 200 || long1 == long2 {
		t.Errorf("long slugs: len %d, equal %v", len(long1), long1 == long2)
	}
}

func TestAppendReadCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "metrics.csv")
	r1 := Row{Experiment: "e", Params: "default", Seed: 1, Target: "1-7", Condition: 1, Epoch: 1,
		TrainLoss: 0.5, AUROC: 0.9375, MeanErrNormal: 0.125, MeanErrAnomalous: 0.25, SelectionAccuracy: 0.75}
	r2 := r1
	r2.Condition, r2.AUROC, r2.SelectionAccuracy = 7, 0.8125, math.NaN()
	if err := AppendCSV(path, []Row{r1}); err != nil {
		t.Fatal(err)
	}
	if err := AppendCSV(path, []Row{r2}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || lines[0] != strings.Join(Header, ",") {
		t.Fatalf("file:\n%s", data)
	}
	if lines[1] != "e,default,1,1-7,1,1,0.5,0.9375,0.125,0.25,0.75" || lines[2] != "e,default,1,1-7,7,1,0.5,0.8125,0.125,0.25,NaN" {
		t.Errorf("lines: %q", lines[1:])
	}
	rows, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0] != r1 || rows[1].AUROC != 0.8125 || !math.IsNaN(rows[1].SelectionAccuracy) {
		t.Errorf("ReadCSV = %+v", rows)
	}

	// A torn last line (crash mid-write) is ignored by ReadCSV and cut by AppendCSV.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("e,default,1,1-7,1,2,0.4")
	f.Close()
	if rows, err := ReadCSV(path); err != nil || len(rows) != 2 {
		t.Fatalf("torn: %d rows, %v", len(rows), err)
	}
	r3 := r1
	r3.Epoch = 2
	if err := AppendCSV(path, []Row{r3}); err != nil {
		t.Fatal(err)
	}
	rows, err = ReadCSV(path)
	if err != nil || len(rows) != 3 || rows[2] != r3 {
		t.Fatalf("after repair: %+v, %v", rows, err)
	}

	// WriteCSV rewrites atomically (e.g. dropping epochs after a resume point).
	if err := WriteCSV(path, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if rows, err := ReadCSV(path); err != nil || len(rows) != 1 || rows[0] != r1 {
		t.Fatalf("WriteCSV: %+v, %v", rows, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestReadCSVColumnsByName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	os.WriteFile(path, []byte("epoch,auroc,extra,condition,target,seed\n3,0.5,x,4,4,2\n"), 0o644)
	rows, err := ReadCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Epoch != 3 || rows[0].AUROC != 0.5 || rows[0].Condition != 4 || rows[0].Seed != 2 || !math.IsNaN(rows[0].TrainLoss) {
		t.Errorf("rows = %+v", rows)
	}
	os.WriteFile(path, []byte("epoch,auroc\n1,0.5\n"), 0o644)
	if _, err := ReadCSV(path); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("missing column: err = %v", err)
	}
	os.WriteFile(path, []byte(strings.Join(Header, ",")+"\ne,p,1,0,0,x,1,1,1,1,1\n"), 0o644)
	if _, err := ReadCSV(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad epoch: err = %v", err)
	}
}

// writeTree writes a small results tree: experiment "base", params "default"
// (AE-like) and "model.memory_size=50", seeds 1 and 2, targets 0 and 1, epochs 1..3.
func writeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// auroc[params][seed][target] over epochs 1..3
	aurocs := map[string]map[int64]map[int][3]float64{
		"default": {
			1: {0: {0.90, 0.95, 0.93}, 1: {0.99, 0.98, 0.97}},
			2: {0: {0.91, 0.92, 0.97}, 1: {0.96, 0.995, 0.99}},
		},
		"model.memory_size=50": {
			1: {0: {0.80, 0.85, 0.86}, 1: {0.90, 0.91, 0.92}},
			2: {0: {0.88, 0.84, 0.83}, 1: {0.94, 0.93, 0.90}},
		},
	}
	for params, bySeed := range aurocs {
		for seed, byTarget := range bySeed {
			for target, vals := range byTarget {
				dir := RunDir(root, "base", params, seed, []int{target})
				var rows []Row
				for e, v := range vals {
					// Identity columns left empty on purpose: Load fills them from the path.
					rows = append(rows, Row{Condition: target, Epoch: e + 1, AUROC: v,
						TrainLoss: 1 / float64(e+1), SelectionAccuracy: math.NaN()})
				}
				if err := AppendCSV(filepath.Join(dir, MetricsFile), rows); err != nil {
					t.Fatal(err)
				}
				os.MkdirAll(filepath.Join(dir, CheckpointsDir, "init"), 0o755)
				os.WriteFile(filepath.Join(dir, CheckpointsDir, "init", MetricsFile), []byte("garbage"), 0o644)
				// A copy under way (train.CopyRun) stages its rows in a hidden directory.
				os.MkdirAll(filepath.Join(dir, ".copying"), 0o755)
				os.WriteFile(filepath.Join(dir, ".copying", MetricsFile), []byte("garbage"), 0o644)
			}
		}
	}
	return root
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestLoadAndAggregate(t *testing.T) {
	tab, err := Load(writeTree(t))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 24 {
		t.Fatalf("Len = %d, want 24", tab.Len())
	}
	first := tab.Rows[0]
	if first.Experiment != "base" || first.Params != "default" || first.Seed != 1 || first.Target != "0" || first.Epoch != 1 {
		t.Errorf("first row %+v", first)
	}
	if got := tab.Unique(ByParams); len(got) != 2 || got[0] != "default" {
		t.Errorf("Unique(ByParams) = %v", got)
	}

	best := tab.BestEpochs(AUROC)
	if best.Len() != 8 {
		t.Fatalf("BestEpochs: %d rows", best.Len())
	}
	// default, seed 1, target 0: max 0.95 at epoch 2.
	if r := best.Rows[0]; r.AUROC != 0.95 || r.Epoch != 2 || r.TrainLoss != 0.5 {
		t.Errorf("best row %+v", r)
	}
	mean := tab.MaxOverEpochs(AUROC).MeanOverSeeds()
	if mean.Len() != 4 {
		t.Fatalf("MeanOverSeeds: %d rows", mean.Len())
	}
	// default target 0: (0.95 + 0.97)/2 = 0.96; target 1: (0.99 + 0.995)/2 = 0.9925
	// memory_size=50 target 0: (0.86 + 0.88)/2 = 0.87; target 1: (0.92 + 0.94)/2 = 0.93
	want := []float64{0.96, 0.9925, 0.87, 0.93}
	for i, r := range mean.Rows {
		if !near(r.AUROC, want[i]) || r.Seed != AllSeeds || r.Epoch != BestEpoch || !math.IsNaN(r.SelectionAccuracy) {
			t.Errorf("mean row %d = %+v, want AUROC %v", i, r, want[i])
		}
	}
	std := tab.MaxOverEpochs(AUROC).OverSeeds(Std)
	if !near(std.Rows[0].AUROC, math.Sqrt(0.0002)) { // values 0.95, 0.97
		t.Errorf("std = %v", std.Rows[0].AUROC)
	}

	p, err := tab.ClassByConfiguration(AUROC)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.RowLabels, " ") != "0 1" || strings.Join(p.ColLabels, " ") != "base/default base/model.memory_size=50" {
		t.Fatalf("labels %v %v", p.RowLabels, p.ColLabels)
	}
	for i, row := range [][]float64{{0.96, 0.87}, {0.9925, 0.93}} {
		for j, v := range row {
			if !near(p.Values[i][j], v) {
				t.Errorf("pivot[%d][%d] = %v, want %v", i, j, p.Values[i][j], v)
			}
		}
	}
	if m := p.ColumnMeans(); !near(m[0], 0.97625) || !near(m[1], 0.9) {
		t.Errorf("ColumnMeans = %v", m)
	}
	// Sample sd (n−1) of two values a, b: |a−b|/√2.
	if sd := p.ColumnStds(); !near(sd[0], 0.0325/math.Sqrt2) || !near(sd[1], 0.06/math.Sqrt2) {
		t.Errorf("ColumnStds = %v, want [%v %v]", sd, 0.0325/math.Sqrt2, 0.06/math.Sqrt2)
	}
	one := Pivot{RowLabels: []string{"a", "b"}, ColLabels: []string{"x"}, Values: [][]float64{{0.5}, {math.NaN()}}}
	if sd := one.ColumnStds(); !math.IsNaN(sd[0]) {
		t.Errorf("ColumnStds of a single value = %v, want NaN", sd)
	}

	p.ColLabels = []string{"AE", "MemAE_50"}
	got := p.LaTeX(LaTeXOptions{Caption: "Max AUROC, 2 seeds", Label: "tab:base", BoldMax: true, MeanRow: true})
	wantTeX := `\begin{table}[htbp]
\centering
\caption{Max AUROC, 2 seeds}
\label{tab:base}
\begin{tabular}{lrr}
\toprule
Class & AE & MemAE\_50 \\
\midrule
0 & \textbf{0.9600} & 0.8700 \\
1 & \textbf{0.9925} & 0.9300 \\
\midrule
Mean & \textbf{0.9762} & 0.9000 \\
\bottomrule
\end{tabular}
\end{table}
`
	if got != wantTeX {
		t.Errorf("LaTeX:\n%s\nwant:\n%s", got, wantTeX)
	}
}

func TestPivotMissingAndFilter(t *testing.T) {
	tab := Table{Rows: []Row{
		{Experiment: "e", Params: "a", Condition: 10, AUROC: 0.5},
		{Experiment: "e", Params: "b", Condition: 2, AUROC: 0.75},
	}}
	p, err := tab.Pivot(ByCondition, ByParams, AUROC)
	if err != nil {
		t.Fatal(err)
	}
	if p.RowLabels[0] != "2" || p.RowLabels[1] != "10" { // natural order
		t.Errorf("rows %v", p.RowLabels)
	}
	tex := p.LaTeX(LaTeXOptions{NoFloat: true, Precision: 2})
	if !strings.Contains(tex, "2 & -- & 0.75 \\\\") || strings.Contains(tex, "table}") {
		t.Errorf("LaTeX:\n%s", tex)
	}
	if f := tab.Filter(func(r Row) bool { return r.AUROC > 0.6 }); f.Len() != 1 || f.Rows[0].Params != "b" {
		t.Errorf("Filter = %+v", f)
	}
	if _, err := (Table{}).Pivot(ByCondition, ByParams, AUROC); err != ErrNoRows {
		t.Errorf("empty pivot err = %v", err)
	}
}

func TestCompareNatural(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"2", "10", -1}, {"1-7", "4-5", -1}, {"10", "10", 0}, {"seed_10", "seed_2", 1}, {"a", "ab", -1}, {"007", "7", 0},
		// decimals by value (the λ sweep's values sorted as strings put 0.0025 after 0.05)
		{"0.0025", "0.005", -1}, {"0.05", "0.0025", 1}, {"0.001", "0.01", -1}, {"0.00001", "0.0001", -1},
		{"0.5", "0.25", 1}, {"0.50", "0.5", 0}, {"0", "0.001", -1}, {"10.5", "9.75", 1}, {"1.", "1", 1},
		{"model.shrink_threshold=0.0025", "model.shrink_threshold=0.02", -1}} {
		if got := compareNatural(c.a, c.b); got != c.want {
			t.Errorf("compareNatural(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestLoadProgress(t *testing.T) {
	root := t.TempDir()
	dir := RunDir(root, "exp", "default", 2, []int{1, 7})
	rows := []Row{{Condition: 1, Epoch: 0}, {Condition: 7, Epoch: 0}, {Condition: 1, Epoch: 1}, {Condition: 7, Epoch: 1}, {Condition: 1, Epoch: 3}, {Condition: 7, Epoch: 3}}
	if err := AppendCSV(filepath.Join(dir, MetricsFile), rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("seed: 2\ntrainer:\n  max_epochs: 10\n  backend: \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadProgress(root)
	if err != nil {
		t.Fatal(err)
	}
	want := RunProgress{Dir: dir, Experiment: "exp", Params: "default", Seed: 2, Target: "1-7", LastEpoch: 3, MaxEpochs: 10}
	if len(got) != 1 || got[0] != want || got[0].Finished() {
		t.Fatalf("LoadProgress = %+v (finished %v), want %+v", got, len(got) == 1 && got[0].Finished(), want)
	}
	if !got[0].Matches(Row{Experiment: "exp", Params: "default", Seed: 2, Target: "1-7", Condition: 7}) ||
		got[0].Matches(Row{Experiment: "exp", Params: "default", Seed: 1, Target: "1-7"}) {
		t.Errorf("Matches is wrong")
	}
	if (RunProgress{LastEpoch: 10, MaxEpochs: 10}).Finished() != true || (RunProgress{LastEpoch: 4}).Finished() != true {
		t.Errorf("Finished: complete runs and runs without config.yaml count as finished")
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("trainer: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProgress(root); err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Errorf("broken config.yaml: err %v, want one naming %s", err, ConfigFile)
	}
}
