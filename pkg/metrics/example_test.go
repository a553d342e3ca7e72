package metrics_test

import (
	"fmt"
	"log"

	"github.com/cmemae/cmemae/pkg/metrics"
)

// The thesis's evaluation of one test set: reconstruction errors become the
// confidence of being normal, whose AUROC against "is normal" is the score.
// Of the 3 × 2 (normal, anomalous) pairs, the normal image is more confident in
// five, and one pair is tied (errors 0.4 and 0.4, counting one half): 5.5/6.
func ExampleAUROC() {
	errs := []float64{0.1, 0.4, 0.2, 0.9, 0.4}
	normal := []bool{true, true, true, false, false}
	confidence := metrics.NormalConfidence(errs)
	fmt.Printf("confidence %.3f\n", confidence)
	auroc, err := metrics.AUROC(confidence, normal)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("AUROC %.4f\n", auroc)
	// Output:
	// confidence [1.000 0.625 0.875 0.000 0.625]
	// AUROC 0.9167
}
