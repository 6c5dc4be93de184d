package analysis_test

import (
	"fmt"

	"github.com/npti-studio/npti/analysis"
)

// Inducing two traits at once: a neuron that Extraversion high adds to and
// Agreeableness high clamps (it is in Agreeableness low) is a conflict,
// resolved here by letting the addition win.
func ExamplePlan_Build() {
	rec := func(layer, index int) analysis.Neuron {
		return analysis.Neuron{Layer: layer, Index: index, Diff: 0.15, P: 0.6, Q95: 1}
	}
	sets := analysis.Sets{
		{Trait: analysis.Extraversion, Pole: analysis.High}:  {rec(0, 0), rec(1, 2)},
		{Trait: analysis.Extraversion, Pole: analysis.Low}:   {rec(0, 1)},
		{Trait: analysis.Agreeableness, Pole: analysis.High}: {rec(1, 3)},
		{Trait: analysis.Agreeableness, Pole: analysis.Low}:  {rec(1, 2)},
	}
	plan := analysis.DefaultPlan(
		analysis.Induction{Trait: analysis.Extraversion, Pole: analysis.High, Gamma: 1.4},
		analysis.Induction{Trait: analysis.Agreeableness, Pole: analysis.High, Gamma: 1.4},
	)
	plan.Policy = analysis.PolicyAdd
	o, rep, err := plan.Build(sets, 2, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("add %d, clamp %d, conflicts %d\n", rep.Add, rep.Clamp, rep.Conflicts)
	fmt.Printf("neuron (1,2): add %.2f, clamped %v\n", o.Add[1*4+2], o.Clamp[1*4+2])
	// Output:
	// add 3, clamp 1, conflicts 1
	// neuron (1,2): add 0.70, clamped false
}
