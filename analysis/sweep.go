package analysis

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Variant is a way of choosing and applying the neurons, compared on the
// same axes by Sweep.
type Variant struct {
	// Name labels the variant: "npti", "topk:500", "add-only", "clamp-only".
	Name string
	// TopK, when > 0, re-cuts both poles' sets to their TopK neurons of
	// highest diff.
	TopK int
	// NoClamp leaves the opposite pole alone (add only); NoAdd adds
	// nothing (γ = 0: clamp only, the same at every γ).
	NoClamp, NoAdd bool
}

// ParseVariant parses "npti", "topk:K", "add-only" or "clamp-only".
func ParseVariant(s string) (Variant, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "npti":
		return Variant{Name: s}, nil
	case "add-only":
		return Variant{Name: s, NoClamp: true}, nil
	case "clamp-only":
		return Variant{Name: s, NoAdd: true}, nil
	}
	if k, ok := strings.CutPrefix(s, "topk:"); ok {
		n, err := strconv.Atoi(k)
		if err == nil && n > 0 {
			return Variant{Name: s, TopK: n}, nil
		}
	}
	return Variant{}, fmt.Errorf("unknown variant %q (want npti, topk:K, add-only or clamp-only)", s)
}

// SweepRequest configures Sweep.
type SweepRequest struct {
	// Induce gives the questions, prompts, sets and the plan (one item,
	// whose gamma is replaced by each of Gammas).
	Induce InduceRequest
	// Gammas to try (default 0.6, 0.8, ..., 1.6).
	Gammas []float64
	// Variants to compare (default npti).
	Variants []Variant
	// Baselines adds the adjective and persona prompt baselines.
	Baselines bool
	// Scorers give the trait score.
	Scorers TraitScorers
	// MaxFluencyCost bounds the NLL increase over unsteered of a sweet
	// spot, in nats per token: nil means DefaultMaxFluencyCost, and 0
	// means no increase at all. It must be finite and not negative.
	MaxFluencyCost *float64
	// Checkpoint, when set, is a JSON file where the points of each
	// finished run (the baselines, and each variant at each γ) are
	// recorded, written atomically as each run ends. Without Resume a
	// checkpoint of an unfinished sweep there is an error (a finished
	// one is replaced); with Resume the runs recorded there are not run
	// again, and a checkpoint made with other settings (model, questions,
	// prompt, plan, sets, generation, scorers) is an error. The γ values
	// and variants may change: they key the runs.
	Checkpoint string
	Resume     bool
}

// DefaultMaxFluencyCost is the sweet spot's default fluency bound (nats
// per token).
const DefaultMaxFluencyCost = 1.0

// CheckFluencyCost reports why v cannot bound a sweet spot's fluency cost:
// it must be a finite number >= 0 (sweep.json cannot hold an infinity).
func CheckFluencyCost(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Errorf("max fluency cost %v: want a finite number >= 0 (nats per token)", v)
	}
	return nil
}

// SweepPoint is the mean result of one condition of a sweep.
type SweepPoint struct {
	Condition string  `json:"condition"`
	Variant   string  `json:"variant,omitempty"`
	Gamma     float64 `json:"gamma"`
	// Score is P(induced pole | answer), averaged; PHigh is P(high pole).
	Score     float64 `json:"score"`
	PHigh     float64 `json:"p_high"`
	NLL       float64 `json:"nll"`
	Distinct1 float64 `json:"distinct_1"`
	Distinct2 float64 `json:"distinct_2"`
	N         int     `json:"n"`
}

// SweetSpot is, for one variant, the γ with the largest trait shift whose
// fluency cost stays within the bound.
type SweetSpot struct {
	Variant string  `json:"variant"`
	Found   bool    `json:"found"`
	Gamma   float64 `json:"gamma"`
	Shift   float64 `json:"shift"`
	Cost    float64 `json:"cost"`
}

// SweepResult is the dose-response of one induction.
type SweepResult struct {
	Trait          string       `json:"trait"`
	Pole           string       `json:"pole"`
	Questions      int          `json:"questions"`
	MaxFluencyCost float64      `json:"max_fluency_cost"`
	Unsteered      SweepPoint   `json:"unsteered"`
	Baselines      []SweepPoint `json:"baselines,omitempty"`
	Points         []SweepPoint `json:"points"`
	SweetSpots     []SweetSpot  `json:"sweet_spots"`
}

// DefaultGammas returns 0.6, 0.8, ..., 1.6.
func DefaultGammas() []float64 { return []float64{0.6, 0.8, 1.0, 1.2, 1.4, 1.6} }

// Sweep measures trait score and fluency against γ for each variant, with
// the unsteered (and prompt) baselines, on the same questions. progress
// counts runs (one run = every question under one setting).
func Sweep(ctx context.Context, r Runner, req SweepRequest, progress func(Progress)) (*SweepResult, error) {
	base := req.Induce
	if len(base.Plan.Items) != 1 {
		return nil, fmt.Errorf("sweep: want exactly one induction, got %d", len(base.Plan.Items))
	}
	if len(req.Gammas) == 0 {
		req.Gammas = DefaultGammas()
	}
	if len(req.Variants) == 0 {
		req.Variants = []Variant{{Name: "npti"}}
	}
	maxCost := DefaultMaxFluencyCost
	if req.MaxFluencyCost != nil {
		maxCost = *req.MaxFluencyCost
	}
	if err := CheckFluencyCost(maxCost); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	item := base.Plan.Items[0]
	a := item.Aspect()
	res := &SweepResult{Trait: string(a.Trait), Pole: a.Pole.String(), Questions: len(base.Questions), MaxFluencyCost: maxCost}
	total := 1
	for _, v := range req.Variants {
		total += len(req.Gammas)
		if v.NoAdd {
			total -= len(req.Gammas) - 1
		}
	}
	cp := &sweepCheckpoint{Runs: map[string]sweepRunDone{}}
	if req.Checkpoint != "" {
		want, err := sweepSettings(r, req)
		if err != nil {
			return nil, err
		}
		if cp, err = loadSweepCheckpoint(req.Checkpoint, req.Resume, want); err != nil {
			return nil, err
		}
	}
	p, start := Progress{Aspect: a, Total: total}, time.Now()
	run := func(key string, q InduceRequest) ([]SweepPoint, error) {
		if done, ok := cp.Runs[key]; ok {
			p.Skipped++
			return done.Points, nil
		}
		pts, tokens, err := sweepRun(ctx, r, q, req.Scorers, a.Pole)
		if err != nil {
			return nil, err
		}
		cp.Runs[key] = sweepRunDone{Points: pts, Tokens: tokens}
		if err := cp.save(req.Checkpoint); err != nil {
			return nil, err
		}
		p.Done, p.Tokens, p.Elapsed = p.Done+1, p.Tokens+tokens, time.Since(start)
		if progress != nil {
			progress(p)
		}
		return pts, nil
	}
	q := base
	q.Conditions = []string{CondUnsteered}
	if req.Baselines {
		q.Conditions = append(q.Conditions, CondAdjective, CondPersona)
	}
	pts, err := run(baselineRunKey(q.Conditions), q)
	if err != nil {
		return nil, err
	}
	res.Unsteered, res.Baselines = pts[0], pts[1:]
	layers, neurons := r.Shape()
	for _, v := range req.Variants {
		q := base
		q.Conditions, q.Variant, q.Sets = []string{CondInduced}, v.Name, base.Sets
		q.Plan.ClampOpposite = base.Plan.ClampOpposite && !v.NoClamp
		if v.TopK > 0 {
			q.Sets = Sets{}
			for _, asp := range []Aspect{a, a.Opposite()} {
				q.Sets[asp] = Refine(base.Sets[asp], Rule{Mode: ModeTopK, TopK: v.TopK, LayerMax: -1}, layers, neurons)
			}
		}
		gammas := req.Gammas
		if v.NoAdd {
			gammas = []float64{0}
		}
		for _, g := range gammas {
			q.Plan.Items = []Induction{{Trait: item.Trait, Pole: item.Pole, Gamma: g}}
			pts, err := run(variantRunKey(v, g), q)
			if err != nil {
				return nil, err
			}
			res.Points = append(res.Points, pts...)
		}
	}
	res.SweetSpots = sweetSpots(res, req.Variants)
	cp.Complete = true
	if err := cp.save(req.Checkpoint); err != nil {
		return nil, err
	}
	return res, nil
}

// sweepRun generates, scores and averages one setting's answers, one
// point per condition (in the request's order).
func sweepRun(ctx context.Context, r Runner, q InduceRequest, sc TraitScorers, pole Pole) ([]SweepPoint, int64, error) {
	var answers []Answer
	var tokens int64
	err := Induce(ctx, r, q, func(a Answer) error {
		answers = append(answers, a)
		tokens += int64(len(a.IDs))
		return nil
	})
	if err != nil {
		return nil, tokens, fmt.Errorf("sweep: %w", err)
	}
	scored, err := ScoreAnswers(ctx, answers, sc, r, 0)
	if err != nil {
		return nil, tokens, fmt.Errorf("sweep: %w", err)
	}
	var pts []SweepPoint
	for _, row := range Summarize(scored) {
		pt := SweepPoint{Condition: row.Condition, Variant: row.Variant, Gamma: row.Gamma, PHigh: row.PHigh,
			Score: row.PHigh, NLL: row.NLL, Distinct1: row.Distinct1, Distinct2: row.Distinct2, N: row.N}
		if pole == Low {
			pt.Score = 1 - row.PHigh
		}
		pts = append(pts, pt)
	}
	slices.SortStableFunc(pts, func(x, y SweepPoint) int {
		return slices.Index(q.Conditions, x.Condition) - slices.Index(q.Conditions, y.Condition)
	})
	return pts, tokens, nil
}

// sweetSpots finds, per variant, the point of largest shift within the
// fluency bound.
func sweetSpots(res *SweepResult, vs []Variant) []SweetSpot {
	var out []SweetSpot
	for _, v := range vs {
		best := SweetSpot{Variant: v.Name, Shift: math.Inf(-1)}
		for _, pt := range res.Points {
			shift, cost := pt.Score-res.Unsteered.Score, pt.NLL-res.Unsteered.NLL
			if pt.Variant == v.Name && cost <= res.MaxFluencyCost && shift > best.Shift {
				best = SweetSpot{Variant: v.Name, Found: true, Gamma: pt.Gamma, Shift: shift, Cost: cost}
			}
		}
		if !best.Found {
			best.Shift = 0
		}
		out = append(out, best)
	}
	return out
}

// WriteCSV writes the result as one table: a row per point, baselines
// and the unsteered run included, with the trait shift and fluency cost
// against unsteered and a sweet_spot column.
func (res *SweepResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"condition", "variant", "gamma", "score", "p_high", "nll", "shift", "fluency_cost", "distinct_1", "distinct_2", "n", "sweet_spot"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	rows := append(append([]SweepPoint{res.Unsteered}, res.Baselines...), res.Points...)
	for _, pt := range rows {
		sweet := false
		for _, s := range res.SweetSpots {
			sweet = sweet || (s.Found && pt.Condition == CondInduced && s.Variant == pt.Variant && s.Gamma == pt.Gamma)
		}
		cw.Write([]string{pt.Condition, pt.Variant, f(pt.Gamma), f(pt.Score), f(pt.PHigh), f(pt.NLL),
			f(pt.Score - res.Unsteered.Score), f(pt.NLL - res.Unsteered.NLL), f(pt.Distinct1), f(pt.Distinct2),
			strconv.Itoa(pt.N), strconv.FormatBool(sweet)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("sweep csv: %w", err)
	}
	return nil
}
