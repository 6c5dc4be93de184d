package hook

import "fmt"

// Scope says at which positions a hook acts.
type Scope int

const (
	// Generated positions only: decode steps (NPTI's default; the prompt
	// prefill is untouched).
	Generated Scope = iota
	// All positions: prompt and generated.
	All
	// Prompt positions only (for capture).
	Prompt
)

func (s Scope) String() string {
	switch s {
	case Generated:
		return "generated"
	case All:
		return "all"
	case Prompt:
		return "prompt"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope parses "generated", "all" or "prompt".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "generated", "gen":
		return Generated, nil
	case "all":
		return All, nil
	case "prompt":
		return Prompt, nil
	}
	return 0, fmt.Errorf("unknown scope %q (want generated, all or prompt)", s)
}

// Override edits FFN activations a = SiLU(x·W_gate) inside the forward pass:
// per layer, first a = min(a, 0) for clamped neurons, then a += Add for
// added neurons. Dense per-layer vectors keep it a plain graph input, so a
// new neuron set never recompiles the model.
type Override struct {
	Layers, Neurons int
	// Clamp[l*Neurons+i] marks neurons clamped to min(a, 0).
	Clamp []bool
	// Add[l*Neurons+i] is added to a (0 = untouched).
	Add []float32
	// AddFraction is the probability that each added neuron is applied at
	// each forward step (NPTI: 0.9); 1 or 0 applies all deterministically.
	AddFraction float64
	// Seed seeds the per-step random draw of the add mask.
	Seed uint64
	// Scope says where the edits apply (Generated or All).
	Scope Scope
}

// NewOverride returns an empty override (no neuron touched) for a shape.
func NewOverride(layers, neurons int) *Override {
	return &Override{Layers: layers, Neurons: neurons,
		Clamp: make([]bool, layers*neurons), Add: make([]float32, layers*neurons), AddFraction: 1}
}

// Empty reports whether the override touches no neuron.
func (o *Override) Empty() bool {
	if o == nil {
		return true
	}
	for i, c := range o.Clamp {
		if c || o.Add[i] != 0 {
			return false
		}
	}
	return true
}

// Validate checks the override against a model's shape.
func (o *Override) Validate(layers, neurons int) error {
	if o == nil {
		return nil
	}
	if o.Layers != layers || o.Neurons != neurons {
		return fmt.Errorf("override is for %d layers x %d neurons, model has %d x %d", o.Layers, o.Neurons, layers, neurons)
	}
	if len(o.Clamp) != layers*neurons || len(o.Add) != layers*neurons {
		return fmt.Errorf("override vectors have wrong length")
	}
	if o.Scope != Generated && o.Scope != All {
		return fmt.Errorf("override scope %q: edits apply to generated or all positions", o.Scope)
	}
	if o.AddFraction < 0 || o.AddFraction > 1 {
		return fmt.Errorf("add fraction %g outside [0, 1]", o.AddFraction)
	}
	return nil
}
