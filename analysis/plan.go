package analysis

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/inference/hook"
)

// Induction asks to induce one pole of a trait with intensity Gamma.
type Induction struct {
	Trait Trait
	Pole  Pole
	// Gamma scales the added amount (NPTI sweeps 0.6–1.5; 1.4 is common).
	Gamma float64
}

// Aspect returns the induced aspect.
func (in Induction) Aspect() Aspect { return Aspect{in.Trait, in.Pole} }

// ParseInductions parses a comma-separated list "trait:pole[:gamma]"
// ("extraversion:high,neuroticism:low:1.2"); gamma is the default for
// items that give none.
func ParseInductions(s string, gamma float64) ([]Induction, error) {
	var out []Induction
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("induction %q: want trait:pole or trait:pole:gamma", item)
		}
		a, err := ParseAspect(parts[0] + ":" + parts[1])
		if err != nil {
			return nil, fmt.Errorf("induction %q: %w", item, err)
		}
		g := gamma
		if len(parts) == 3 {
			if g, err = strconv.ParseFloat(parts[2], 64); err != nil {
				return nil, fmt.Errorf("induction %q: bad gamma: %w", item, err)
			}
		}
		out = append(out, Induction{Trait: a.Trait, Pole: a.Pole, Gamma: g})
	}
	return out, nil
}

// Policy resolves a conflict: a neuron one item adds to and another clamps.
type Policy string

// Conflict policies.
const (
	PolicySkip  Policy = "skip"  // neither: the neuron is left untouched
	PolicyAdd   Policy = "add"   // the addition wins, no clamp
	PolicyClamp Policy = "clamp" // the clamp wins, no addition
)

// ParsePolicy parses "skip", "add" or "clamp".
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicySkip, PolicyAdd, PolicyClamp:
		return p, nil
	}
	return "", fmt.Errorf("unknown conflict policy %q (want skip, add or clamp)", s)
}

// Plan is a (multi-trait) induction: what Build turns into a hook.Override.
type Plan struct {
	Items []Induction
	// MaskFraction is the share of added neurons applied at each step
	// (NPTI: 0.9; 1 is deterministic).
	MaskFraction float64
	// Seed seeds the per-step add mask.
	Seed uint64
	// Scope says where the edits apply (NPTI: hook.Generated).
	Scope hook.Scope
	// ClampOpposite clamps the opposite pole's neurons to min(a, 0) (NPTI: true).
	ClampOpposite bool
	// Policy resolves conflicts between items; "" means PolicySkip.
	Policy Policy
}

// DefaultPlan returns the NPTI settings for items: 90 % mask, generated
// positions, opposite pole clamped, conflicts skipped.
func DefaultPlan(items ...Induction) Plan {
	return Plan{Items: items, MaskFraction: 0.9, Scope: hook.Generated, ClampOpposite: true, Policy: PolicySkip}
}

// LayerCount counts the neurons of one layer that a plan adds to, clamps,
// and found in conflict.
type LayerCount struct {
	Layer     int `json:"layer"`
	Add       int `json:"add"`
	Clamp     int `json:"clamp"`
	Conflicts int `json:"conflicts"`
}

// Report summarises a built plan: neurons added to and clamped after
// conflict resolution, and conflicts found, in total and per layer (every
// layer of the model, ascending).
type Report struct {
	Add       int          `json:"add"`
	Clamp     int          `json:"clamp"`
	Conflicts int          `json:"conflicts"`
	PerLayer  []LayerCount `json:"per_layer"`
}

// AddAmount is what NPTI adds to a neuron's activation (NPTI.md §4):
// q95 · γ · σ(10 · (diff − 0.15)), with diff the record's diff field.
func AddAmount(n Neuron, gamma float64) float64 {
	return n.Q95 * gamma / (1 + math.Exp(-10*(n.Diff-0.15)))
}

// validate checks the plan's own settings.
func (p Plan) validate() error {
	if len(p.Items) == 0 {
		return fmt.Errorf("plan: nothing to induce")
	}
	seen := map[Trait]bool{}
	for _, it := range p.Items {
		if _, err := ParseTrait(string(it.Trait)); err != nil || Facets(it.Trait) == nil {
			return fmt.Errorf("plan: unknown trait %q", it.Trait)
		}
		if it.Pole != High && it.Pole != Low {
			return fmt.Errorf("plan: %s: bad pole %v", it.Trait, it.Pole)
		}
		if seen[it.Trait] {
			return fmt.Errorf("plan: %s appears twice (one pole per trait)", it.Trait)
		}
		seen[it.Trait] = true
		if !finite(it.Gamma) || it.Gamma < 0 {
			return fmt.Errorf("plan: %s: gamma %v must be finite and >= 0", it.Aspect(), it.Gamma)
		}
	}
	if !(p.MaskFraction > 0 && p.MaskFraction <= 1) {
		return fmt.Errorf("plan: mask fraction %v outside (0, 1] (1 applies every added neuron at every step)", p.MaskFraction)
	}
	if p.Scope != hook.Generated && p.Scope != hook.All {
		return fmt.Errorf("plan: edits apply to generated or all positions, not %q", p.Scope)
	}
	if _, err := ParsePolicy(string(p.policy())); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

func (p Plan) policy() Policy {
	if p.Policy == "" {
		return PolicySkip
	}
	return p.Policy
}

// Build turns the plan into an override for a model of layers × neurons.
//
// Each item adds AddAmount(record, γ) to its pole's neurons and, when
// ClampOpposite is set, clamps the opposite pole's neurons to min(a, 0).
// When two items add to the same neuron the amounts are summed. A conflict
// is a neuron that one item adds to and a different item clamps (with
// ClampOpposite, Extraversion high + Neuroticism high conflict on
// (E_high ∩ N_low) ∪ (N_high ∩ E_low): 11,802 neurons in the published
// sets); the policy resolves each. A neuron in both sets of the same item
// (not a conflict) gets both edits, clamp then add, as the official code does.
func (p Plan) Build(sets Sets, layers, neurons int) (*hook.Override, Report, error) {
	if err := p.validate(); err != nil {
		return nil, Report{}, err
	}
	if layers <= 0 || neurons <= 0 {
		return nil, Report{}, fmt.Errorf("plan: invalid model shape %dx%d", layers, neurons)
	}
	size := layers * neurons
	addBy := make([]uint8, size)   // bit k: item k adds to the neuron
	clampBy := make([]uint8, size) // bit k: item k clamps the neuron
	amount := make([]float64, size)
	for k, it := range p.Items {
		a := it.Aspect()
		roles := []struct {
			a     Aspect
			mask  []uint8
			adds  bool
			apply bool
		}{{a, addBy, true, true}, {a.Opposite(), clampBy, false, p.ClampOpposite}}
		for _, r := range roles {
			if !r.apply {
				continue
			}
			ns, ok := sets[r.a]
			if !ok {
				return nil, Report{}, fmt.Errorf("plan: no neuron set for %s (%s)", r.a, DictFile(r.a))
			}
			if err := checkRecords(DictFile(r.a), ns, layers, neurons); err != nil {
				return nil, Report{}, fmt.Errorf("plan: %w", err)
			}
			for _, n := range ns {
				idx := n.Layer*neurons + n.Index
				r.mask[idx] |= 1 << k
				if r.adds {
					amount[idx] += AddAmount(n, it.Gamma)
				}
			}
		}
	}
	return p.resolve(addBy, clampBy, amount, layers, neurons)
}

// resolve applies the conflict policy and fills the override and report.
func (p Plan) resolve(addBy, clampBy []uint8, amount []float64, layers, neurons int) (*hook.Override, Report, error) {
	o := hook.NewOverride(layers, neurons)
	o.AddFraction, o.Seed, o.Scope = p.MaskFraction, p.Seed, p.Scope
	rep := Report{PerLayer: make([]LayerCount, layers)}
	pol := p.policy()
	for idx := range addBy {
		add, clamp := addBy[idx] != 0, clampBy[idx] != 0
		l := idx / neurons
		if add && clamp && !(addBy[idx] == clampBy[idx] && bits.OnesCount8(addBy[idx]) == 1) {
			rep.Conflicts++
			rep.PerLayer[l].Conflicts++
			switch pol {
			case PolicySkip:
				add, clamp = false, false
			case PolicyAdd:
				clamp = false
			case PolicyClamp:
				add = false
			}
		}
		if add {
			o.Add[idx] = float32(amount[idx])
			rep.Add++
			rep.PerLayer[l].Add++
		}
		if clamp {
			o.Clamp[idx] = true
			rep.Clamp++
			rep.PerLayer[l].Clamp++
		}
	}
	for l := range rep.PerLayer {
		rep.PerLayer[l].Layer = l
	}
	return o, rep, nil
}
