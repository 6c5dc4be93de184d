package judge_test

import (
	"fmt"

	"github.com/npti-studio/npti/analysis/judge"
)

func ExampleParseRating() {
	for _, reply := range []string{
		"Cheerful and outgoing throughout. Rating: [[5]]",
		"Somewhat reserved. **Rating:** [[ 2.0 ]]",
		"I would give it a four.",
	} {
		score, ok := judge.ParseRating(reply)
		fmt.Println(score, ok)
	}
	// Output:
	// 5 true
	// 2 true
	// 0 false
}
