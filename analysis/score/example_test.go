package score_test

import (
	"fmt"

	"github.com/npti-studio/npti/analysis/score"
)

func ExampleNaiveBayes() {
	nb := score.TrainNaiveBayes(
		[]string{"You love parties and meeting new people."},
		[]string{"You prefer quiet evenings alone with a book."},
		score.Options{})
	fmt.Printf("%.2f\n", nb.PHigh("I went to a party and met people"))
	fmt.Printf("%.2f\n", nb.PHigh("A quiet evening alone"))
	// Every word seen once on the high side only ties; ties break
	// alphabetically.
	high, _ := nb.TopWords(1)
	fmt.Println(high[0].Word)
	// Vocabulary 14 words; known words "a", "and", "people" give
	// (1/21)/(2/22) * ((2/21)/(1/22))^2 = 2.30, so P = 2.30/3.30.
	// Output:
	// 0.70
	// 0.13
	// and
}
