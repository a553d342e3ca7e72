package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

func TestAUROCHandComputed(t *testing.T) {
	tests := []struct {
		name     string
		scores   []float64
		positive []bool
		want     float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1},
		{"reversed", []float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false, false}, 0.5},
		// Pairs (pos, neg): (0.8,0.3)=1 (0.8,0.6)=1 (0.4,0.3)=1 (0.4,0.6)=0 → 3/4.
		{"no ties", []float64{0.8, 0.3, 0.4, 0.6}, []bool{true, false, true, false}, 0.75},
		// Positives 0.35, 0.8, 0.4, 0.9, 0.1 against negatives 0.1, 0.4, 0.35:
		// 1.5 + 3 + 2.5 + 3 + 0.5 = 10.5 of 15 pairs (a tie counts 1/2).
		{"ties", []float64{0.1, 0.4, 0.35, 0.8, 0.35, 0.4, 0.9, 0.1},
			[]bool{false, false, true, true, false, true, true, true}, 0.7},
		// One positive tied with one of two negatives: (1 + 0.5)/2.
		{"single tie", []float64{2, 1, 2}, []bool{true, false, false}, 0.75},
		{"infinities", []float64{math.Inf(1), math.Inf(-1), 0}, []bool{true, false, false}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AUROC(tc.scores, tc.positive)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-15 {
				t.Errorf("AUROC = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAUROCScikitLearn compares with values of sklearn.metrics.roc_auc_score
// and roc_curve recorded by testdata/sklearn_auroc.py (scikit-learn 1.2.1,
// Debian python3-sklearn). Recorded values: small-ties 0.7, continuous-50
// 0.6650641025641025, ties-200 0.5745675549322113, confidence-1400
// 0.751477233229058, float32-rounded-300 0.5254407051282051.
func TestAUROCScikitLearn(t *testing.T) {
	raw, err := os.ReadFile("testdata/sklearn_auroc.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name     string
			Scores   []float64
			Positive []bool
			AUROC    float64
			FPR, TPR []float64
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	recorded := map[string]float64{
		"small-ties":          0.7,
		"continuous-50":       0.6650641025641025,
		"ties-200":            0.5745675549322113,
		"confidence-1400":     0.751477233229058,
		"float32-rounded-300": 0.5254407051282051,
	}
	if len(file.Cases) != len(recorded) {
		t.Fatalf("%d cases in testdata, want %d", len(file.Cases), len(recorded))
	}
	for _, c := range file.Cases {
		if c.AUROC != recorded[c.Name] {
			t.Errorf("%s: testdata says %v, test records %v", c.Name, c.AUROC, recorded[c.Name])
		}
		got, err := AUROC(c.Scores, c.Positive)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(got-c.AUROC) > 1e-12 {
			t.Errorf("%s: AUROC = %.17g, scikit-learn %.17g", c.Name, got, c.AUROC)
		}
		// An independent computation: gonum's ROC curve, which is scikit-learn's
		// roc_curve(drop_intermediate=False), and its trapezoidal area.
		fpr, tpr, thr := gonumROC(c.Scores, c.Positive)
		if len(fpr) != len(c.FPR) || len(tpr) != len(c.TPR) || len(thr) != len(fpr) {
			t.Fatalf("%s: gonum's ROC curve has %d points, scikit-learn %d", c.Name, len(fpr), len(c.FPR))
		}
		for i := range fpr {
			if math.Abs(fpr[i]-c.FPR[i]) > 1e-12 || math.Abs(tpr[i]-c.TPR[i]) > 1e-12 {
				t.Fatalf("%s: point %d (%v, %v), scikit-learn (%v, %v)", c.Name, i, fpr[i], tpr[i], c.FPR[i], c.TPR[i])
			}
		}
		if area := integrate.Trapezoidal(fpr, tpr); math.Abs(area-got) > 1e-12 {
			t.Errorf("%s: gonum's trapezoidal area %.17g, AUROC %.17g", c.Name, area, got)
		}
	}
}

// gonumROC returns gonum's ROC curve of scores against positive: points for
// thresholds +Inf, then every distinct score in decreasing order.
func gonumROC(scores []float64, positive []bool) (fpr, tpr, thresholds []float64) {
	y, classes := slices.Clone(scores), slices.Clone(positive)
	stat.SortWeightedLabeled(y, classes, nil)
	tpr, fpr, thresholds = stat.ROC(nil, y, classes, nil)
	return fpr, tpr, thresholds
}

func TestGonumROCHandComputed(t *testing.T) {
	// Scores 0.9(+) 0.5(+) 0.5(−) 0.1(−): thresholds ∞, 0.9, 0.5, 0.1; the area
	// 0.5·(0.5+1)/2 + 0.5·1 = 0.875 is also the AUROC: pairs (0.9,0.5)=1
	// (0.9,0.1)=1 (0.5,0.5)=½ (0.5,0.1)=1 → 3.5/4.
	scores, positive := []float64{0.5, 0.1, 0.9, 0.5}, []bool{false, false, true, true}
	fpr, tpr, thr := gonumROC(scores, positive)
	wantF, wantT := []float64{0, 0, 0.5, 1}, []float64{0, 0.5, 1, 1}
	wantThr := []float64{math.Inf(1), 0.9, 0.5, 0.1}
	if !slices.Equal(fpr, wantF) || !slices.Equal(tpr, wantT) || !slices.Equal(thr, wantThr) {
		t.Errorf("gonum ROC = fpr %v, tpr %v at %v; want %v, %v at %v", fpr, tpr, thr, wantF, wantT, wantThr)
	}
	auroc, err := AUROC(scores, positive)
	if err != nil {
		t.Fatal(err)
	}
	if area := integrate.Trapezoidal(fpr, tpr); auroc != 0.875 || area != 0.875 {
		t.Errorf("AUROC %v, gonum's area %v; want 0.875", auroc, area)
	}
	if !slices.Equal(scores, []float64{0.5, 0.1, 0.9, 0.5}) {
		t.Errorf("gonumROC changed its input: %v", scores)
	}
}

func TestAUROCErrors(t *testing.T) {
	if _, err := AUROC([]float64{1, 2}, []bool{true, true}); !errors.Is(err, ErrOneClass) {
		t.Errorf("only positives: err = %v, want ErrOneClass", err)
	}
	if _, err := AUROC([]float64{1, 2}, []bool{false, false}); !errors.Is(err, ErrOneClass) {
		t.Errorf("only negatives: err = %v, want ErrOneClass", err)
	}
	if _, err := AUROC(nil, nil); err == nil {
		t.Error("no samples: want error")
	}
	if _, err := AUROC([]float64{1, 2, 3}, []bool{true, false}); err == nil {
		t.Error("length mismatch: want error")
	}
	if _, err := AUROC([]float64{1, math.NaN()}, []bool{true, false}); err == nil {
		t.Error("NaN score: want error")
	}
}

func TestNormalConfidence(t *testing.T) {
	got := NormalConfidence([]float64{2, 4, 3, 6})
	want := []float64{1, 0.5, 0.75, 0}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("NormalConfidence[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	for i, c := range NormalConfidence([]float64{3, 3, 3}) {
		if c != 1 {
			t.Errorf("equal errors: confidence[%d] = %v, want 1", i, c)
		}
	}
	if len(NormalConfidence(nil)) != 0 {
		t.Error("NormalConfidence(nil) not empty")
	}
	// Confidence reverses the order of errors, so AUROC(confidence, normal)
	// equals AUROC(error, anomalous).
	errs := []float64{0.1, 0.5, 0.2, 0.9, 0.3}
	normal := []bool{true, false, true, false, false}
	anomalous := []bool{false, true, false, true, true}
	a, _ := AUROC(NormalConfidence(errs), normal)
	b, _ := AUROC(errs, anomalous)
	if a != 1 || b != 1 {
		t.Errorf("AUROC(confidence, normal) = %v, AUROC(errors, anomalous) = %v, want 1 and 1", a, b)
	}
}

func TestMeanErrors(t *testing.T) {
	n, a := MeanErrors([]float64{1, 2, 3, 4, 6}, []bool{true, false, true, false, false})
	if n != 2 || a != 4 {
		t.Errorf("MeanErrors = %v, %v, want 2, 4", n, a)
	}
	n, a = MeanErrors([]float64{1}, []bool{true, false})
	if !math.IsNaN(n) || !math.IsNaN(a) {
		t.Errorf("length mismatch: got %v, %v, want NaN", n, a)
	}
}

func TestMemoryChange(t *testing.T) {
	m := []float32{1, 0, 0, 1, 3, 4}
	if got := MemoryChange(m, m, 3, 2); math.Abs(got) > 1e-15 {
		t.Errorf("unchanged memory: %v, want 0", got)
	}
	// Scaling an item does not change its direction.
	scaled := []float32{2, 0, 0, 0.5, 6, 8}
	if got := MemoryChange(m, scaled, 3, 2); math.Abs(got) > 1e-15 {
		t.Errorf("scaled memory: %v, want 0", got)
	}
	// Item 0 flipped (cos −1 → 0), item 1 orthogonal (cos 0 → 0.5), item 2 the
	// same (→ 1): 1 − (0 + 0.5 + 1)/3 = 0.5.
	cur := []float32{-1, 0, 1, 0, 3, 4}
	if got := MemoryChange(m, cur, 3, 2); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("MemoryChange = %v, want 0.5", got)
	}
	// cos((1,0),(1,1)) = 1/√2: 1 − (1/√2 + 1)/2.
	want := 1 - (1/math.Sqrt2+1)/2
	if got := MemoryChange([]float32{1, 0}, []float32{1, 1}, 1, 2); math.Abs(got-want) > 1e-7 {
		t.Errorf("MemoryChange = %v, want %v", got, want)
	}
	// A zero item has cosine 0 (PyTorch's eps), not NaN.
	if got := MemoryChange([]float32{0, 0}, []float32{1, 1}, 1, 2); got != 0.5 {
		t.Errorf("zero item: %v, want 0.5", got)
	}
	if got := MemoryChange(m, m[:4], 3, 2); !math.IsNaN(got) {
		t.Errorf("wrong length: %v, want NaN", got)
	}
}

func BenchmarkAUROC(b *testing.B) {
	scores := make([]float64, 1400)
	pos := make([]bool, 1400)
	for i := range scores {
		scores[i] = float64((i * 7919) % 1009)
		pos[i] = i%10 < 7
	}
	for b.Loop() {
		_, _ = AUROC(scores, pos)
	}
}
