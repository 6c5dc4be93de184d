package score

import (
	"testing"

	"github.com/npti-studio/npti/resources"
)

func builtinDescriptions(t *testing.T) map[string][]string {
	t.Helper()
	f, err := resources.Probes().Open("description.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := readDescriptions(f, "built-in description.json")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCrossDataset trains on one description set and evaluates on the
// other, in both directions: the built-in probe set (written independently
// for NPTI Studio) and PersonalityBench should describe the same poles with
// enough shared vocabulary for a word-level classifier to transfer.
// A word-level model transfers imperfectly: negated phrases ("you seldom
// worry") still count the negated word, and the two sets favour different
// vocabulary. Measured accuracies (high and low poles together):
//
//	                  built-in -> PB (160 texts)   PB -> built-in (64 texts)
//	Openness               0.975                        0.906
//	Conscientiousness      0.894                        0.859
//	Extraversion           0.981                        0.922
//	Agreeableness          1.000                        0.844
//	Neuroticism            0.981                        0.906
//
// The test asserts 0.85 and 0.8 for every trait (chance is 0.5).
func TestCrossDataset(t *testing.T) {
	bench, builtin := benchDescriptions(t), builtinDescriptions(t)
	const wantToBench, wantToBuiltin = 0.85, 0.8
	for _, tr := range traits {
		low := tr + "_reversed"
		fromBuiltin := TrainNaiveBayes(builtin[tr], builtin[low], Options{})
		fromBench := TrainNaiveBayes(bench[tr], bench[low], Options{})
		a := accuracy(fromBuiltin, bench[tr], bench[low])
		b := accuracy(fromBench, builtin[tr], builtin[low])
		t.Logf("%s: built-in -> PersonalityBench %.3f, PersonalityBench -> built-in %.3f", tr, a, b)
		if a < wantToBench || b < wantToBuiltin {
			t.Errorf("%s: cross-dataset accuracy %.3f / %.3f, want >= %.2f / %.2f",
				tr, a, b, wantToBench, wantToBuiltin)
		}
	}
}
