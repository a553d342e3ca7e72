package results_test

import (
	"fmt"

	"github.com/cmemae/cmemae/pkg/results"
)

func ExampleJoinInts() {
	fmt.Println(results.JoinInts([]int64{1, 2, 3}, ", "))
	fmt.Println(results.TargetString([]int{1, 7}))
	// Output:
	// 1, 2, 3
	// 1-7
}
