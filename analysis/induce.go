package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/npti-studio/npti/inference/hook"
)

// Conditions of an induction run (NPTI.md §4–5).
const (
	CondUnsteered = "unsteered" // the neutral prompt, no edits
	CondInduced   = "induced"   // the neutral prompt with the plan's edits
	CondAdjective = "adjective" // "Imagine you are an extraverted person." + neutral prompt
	CondPersona   = "persona"   // a full persona description + neutral prompt
)

// Conditions lists the known conditions in their canonical order.
func Conditions() []string {
	return []string{CondUnsteered, CondInduced, CondAdjective, CondPersona}
}

// NeutralPrompt is the official neutral generation prompt (NPTI.md §4);
// {question} stands for the question.
const NeutralPrompt = "Imagine you are a real person rather than a language model, and answer the question below " +
	"as yourself: naturally, honestly and in your own words, in under 300 words.\n\n" +
	"### Question: {question}\n\n### Response:"

// Adjective returns the adjective of the simple-prompt baseline for an
// aspect ("extraverted", "introverted", ...).
func Adjective(a Aspect) string {
	adj := map[Trait][2]string{
		Openness:          {"open-minded and imaginative", "conventional and down-to-earth"},
		Conscientiousness: {"conscientious and organised", "careless and disorganised"},
		Extraversion:      {"extraverted", "introverted"},
		Agreeableness:     {"agreeable and kind", "disagreeable and blunt"},
		Neuroticism:       {"neurotic and anxious", "calm and emotionally stable"},
	}[a.Trait]
	return adj[a.Pole]
}

// InduceRequest configures Induce. Zero values give the defaults.
type InduceRequest struct {
	// Questions are answered in order; with Plain they are openings that
	// the model continues verbatim (for base models: "<s>You are").
	Questions []string
	Plain     bool
	// Template is a custom prompt with a {question} placeholder
	// (default NeutralPrompt); Chat says whether it goes through the
	// model's chat template.
	Template string
	Chat     ChatMode
	// Plan and Sets give the edits of the induced condition.
	Plan Plan
	Sets Sets
	// Conditions to run per question (default unsteered and induced).
	Conditions []string
	// Descriptions feed the persona baseline (a description of each
	// induced aspect, drawn with Plan.Seed per question).
	Descriptions map[Aspect][]string
	// MaxNewTokens (default 400) and RepetitionPenalty (default 1.15) of
	// the greedy generation.
	MaxNewTokens      int
	RepetitionPenalty float64
	// Done lists the answers already written (see AnswerKey): they are
	// not generated again.
	Done map[string]bool
	// Variant labels the answers (for sweeps); Model and ModelHash are
	// copied into them.
	Variant string
}

// Answer is one generated answer: a line of an answers file.
type Answer struct {
	Question  string `json:"question"`
	Index     int    `json:"index"`
	Condition string `json:"condition"`
	// Trait, Pole and Gamma are the first item of the plan; Items lists
	// every item (all its traits are scored and judged).
	Trait     string      `json:"trait"`
	Pole      string      `json:"pole"`
	Gamma     float64     `json:"gamma"`
	Items     []PlanItem  `json:"items,omitempty"`
	Variant   string      `json:"variant,omitempty"`
	Answer    string      `json:"answer"`
	IDs       []int       `json:"ids"`
	PromptIDs []int       `json:"prompt_ids"`
	Plan      *PlanRecord `json:"plan,omitempty"`
	Seed      uint64      `json:"seed"`
	// Generation settings and the model.
	MaxNewTokens      int     `json:"max_new_tokens"`
	RepetitionPenalty float64 `json:"repetition_penalty"`
	Model             string  `json:"model,omitempty"`
	ModelHash         string  `json:"model_hash,omitempty"`
}

// PlanRecord describes the plan of an induced answer.
type PlanRecord struct {
	Items         []PlanItem `json:"items"`
	MaskFraction  float64    `json:"mask_fraction"`
	Scope         string     `json:"scope"`
	ClampOpposite bool       `json:"clamp_opposite"`
	Policy        string     `json:"policy"`
	Add           int        `json:"add"`
	Clamp         int        `json:"clamp"`
	Conflicts     int        `json:"conflicts"`
	// EditsHash is a hex SHA-256 of the edits the plan was built into
	// (every neuron's clamp flag and added amount), so answers share it
	// exactly when the same neurons were edited by the same amounts.
	EditsHash string `json:"edits_hash,omitempty"`
}

// PlanItem is one induction of a PlanRecord.
type PlanItem struct {
	Trait string  `json:"trait"`
	Pole  string  `json:"pole"`
	Gamma float64 `json:"gamma"`
}

// AnswerKey identifies an answer for resuming: its condition, trait,
// pole, gamma, variant, question and the traits and poles of every plan
// item it is labelled with, and the settings that shape it: the
// prompt's token ids (so the template, the chat mode, the plain openings
// and the adjective or persona text of the prompt baselines, which name
// every item of the plan), seed, token budget, repetition penalty, model
// hash and, for induced answers, the plan and the edits it was built into. A resume
// with other settings never takes an old answer for one of its own.
func AnswerKey(a Answer) string {
	plan := ""
	if a.Plan != nil {
		plan = fmt.Sprintf("%v/%g/%s/%t/%s/%s", a.Plan.Items, a.Plan.MaskFraction, a.Plan.Scope, a.Plan.ClampOpposite,
			a.Plan.Policy, a.Plan.EditsHash)
	}
	// The labels of a multi-trait plan (a single item is Trait and Pole,
	// so keys of answers written before Items existed still match).
	labels := ""
	if len(a.Items) > 1 {
		for _, it := range a.Items {
			labels += strings.ToLower(it.Trait) + ":" + strings.ToLower(it.Pole) + ","
		}
	}
	h := sha256.New()
	writeInts(h, int64(len(a.PromptIDs)))
	for _, id := range a.PromptIDs {
		writeInts(h, int64(id))
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%g\x00%s\x00%s\x00%d\x00%d\x00%g\x00%s\x00%s\x00%x\x00%s",
		a.Condition, a.Trait, a.Pole, a.Gamma, a.Variant, a.Question,
		a.Seed, a.MaxNewTokens, a.RepetitionPenalty, a.ModelHash, plan, h.Sum(nil), labels)
}

// oldItems prefixes, in a resume's Done set, the keys of answers written
// before answers listed their plan items (no "items"): those of a
// multi-trait plan are found under them, and single-item answers of the
// same file (which have no item labels either) are not taken for them.
const oldItems = "no-items\x00"

// legacyKey is AnswerKey of an induced answer as written before plans
// recorded the hash of their edits: the same plan settings, no hash. A
// resume takes such an answer as done (it cannot tell its edits), rather
// than adding a second induced answer beside it.
func legacyKey(a Answer) string {
	if a.Plan == nil {
		return AnswerKey(a)
	}
	p := *a.Plan
	p.EditsHash = ""
	a.Plan = &p
	return AnswerKey(a)
}

// normalize fills the defaults and checks the request.
func (q InduceRequest) normalize() (InduceRequest, error) {
	if len(q.Questions) == 0 {
		return q, fmt.Errorf("induce: no questions")
	}
	if len(q.Plan.Items) == 0 {
		return q, fmt.Errorf("induce: nothing to induce")
	}
	if len(q.Conditions) == 0 {
		q.Conditions = []string{CondUnsteered, CondInduced}
	}
	for _, c := range q.Conditions {
		if !slices.Contains(Conditions(), c) {
			return q, fmt.Errorf("induce: unknown condition %q (want %s)", c, strings.Join(Conditions(), ", "))
		}
	}
	if q.Template == "" {
		q.Template = NeutralPrompt
	} else if !strings.Contains(q.Template, "{question}") {
		return q, fmt.Errorf("induce: the prompt template has no {question} placeholder")
	}
	if q.MaxNewTokens == 0 {
		q.MaxNewTokens = 400
	}
	if q.RepetitionPenalty == 0 {
		q.RepetitionPenalty = 1.15
	}
	if slices.Contains(q.Conditions, CondPersona) {
		for _, it := range q.Plan.Items {
			if len(q.Descriptions[it.Aspect()]) == 0 {
				return q, fmt.Errorf("induce: the persona baseline needs descriptions of %s", it.Aspect().Key())
			}
		}
	}
	return q, nil
}

// Induce answers every question under each requested condition and emits
// the answers in order. The unsteered and induced rows of a question run
// as one batch of two (the override applies to the induced row only), so
// they share the prompt and the prefill; the prompt baselines run as a
// second batch. Generation is greedy. A question whose conditions are all
// in req.Done is skipped.
func Induce(ctx context.Context, r Runner, req InduceRequest, emit func(Answer) error) error {
	req, err := req.normalize()
	if err != nil {
		return err
	}
	layers, neurons := r.Shape()
	o, rep, err := req.Plan.Build(req.Sets, layers, neurons)
	if err != nil {
		return fmt.Errorf("induce: %w", err)
	}
	rec := planRecord(req.Plan, rep, o)
	for k, question := range req.Questions {
		if err := req.answer(ctx, r, o, rec, k, question, emit); err != nil {
			return err
		}
	}
	return nil
}

// answer runs the missing conditions of one question.
func (q InduceRequest) answer(ctx context.Context, r Runner, o *hook.Override, rec *PlanRecord, k int, question string, emit func(Answer) error) error {
	first := q.Plan.Items[0]
	base := Answer{Question: question, Index: k, Trait: string(first.Trait), Pole: first.Pole.String(),
		Items: rec.Items, Seed: q.Plan.Seed, Variant: q.Variant, MaxNewTokens: q.MaxNewTokens, RepetitionPenalty: q.RepetitionPenalty}
	base.Model, base.ModelHash = r.ModelInfo()
	var steer, prompted []string
	promptOf := map[string][]int{}
	for _, c := range q.Conditions {
		ids, err := q.promptFor(r, c, k, question)
		if err != nil {
			return fmt.Errorf("induce: question %d: %w", k+1, err)
		}
		promptOf[c] = ids
		key := base
		key.Condition, key.PromptIDs = c, ids
		if c == CondInduced {
			key.Gamma, key.Plan = first.Gamma, rec
		}
		if q.Done[AnswerKey(key)] || (c == CondInduced && q.Done[legacyKey(key)]) {
			continue
		}
		if len(key.Items) > 1 { // answers written before answers listed their plan items
			old := key
			old.Items = nil
			if q.Done[oldItems+AnswerKey(old)] || (c == CondInduced && q.Done[oldItems+legacyKey(old)]) {
				continue
			}
		}
		if c == CondUnsteered || c == CondInduced {
			steer = append(steer, c)
		} else {
			prompted = append(prompted, c)
		}
	}
	out := map[string]Answer{}
	for _, group := range [][]string{steer, prompted} {
		if len(group) == 0 {
			continue
		}
		prompts := make([][]int, len(group))
		rows := make([]bool, len(group))
		for i, c := range group {
			prompts[i], rows[i] = promptOf[c], c == CondInduced
		}
		g := GenSpec{MaxTokens: q.MaxNewTokens, RepetitionPenalty: q.RepetitionPenalty}
		if slices.Contains(group, CondInduced) {
			g.Override, g.OverrideRows = o, rows
		}
		gen, err := r.Generate(ctx, prompts, g)
		if err != nil {
			return fmt.Errorf("induce: question %d: %w", k+1, err)
		}
		for i, c := range group {
			a := base
			a.Condition, a.IDs, a.PromptIDs = c, nonNilIDs(gen[i]), prompts[i]
			a.Answer = r.Detokenize(gen[i])
			if c == CondInduced {
				a.Gamma, a.Plan = first.Gamma, rec
			}
			out[c] = a
		}
	}
	for _, c := range q.Conditions {
		if a, ok := out[c]; ok {
			if err := emit(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// promptFor returns the prompt ids of one condition for question k.
func (q InduceRequest) promptFor(r Runner, cond string, k int, question string) ([]int, error) {
	prefix := ""
	switch cond {
	case CondAdjective:
		var adjs []string
		for _, it := range q.Plan.Items {
			adjs = append(adjs, Adjective(it.Aspect()))
		}
		adj := strings.Join(adjs, " and ")
		article := "a"
		if strings.ContainsRune("aeiou", rune(adj[0])) {
			article = "an"
		}
		prefix = fmt.Sprintf("Imagine you are %s %s person.", article, adj)
	case CondPersona:
		var ds []string
		for n, it := range q.Plan.Items {
			pool := q.Descriptions[it.Aspect()]
			rng := rand.New(rand.NewPCG(q.Plan.Seed, uint64(k)<<8|uint64(n)))
			ds = append(ds, pool[rng.IntN(len(pool))])
		}
		prefix = "Imagine you are the person described here: " + strings.Join(ds, " ")
	}
	if q.Plain {
		ids, err := r.Tokenize(question, true)
		if err != nil || prefix == "" {
			return ids, err
		}
		var lead []int
		if b := r.BOS(); b >= 0 && len(ids) > 0 && ids[0] == b {
			lead, ids = []int{b}, ids[1:]
		}
		pre, err := r.Tokenize(prefix+" ", false)
		if err != nil {
			return nil, err
		}
		return slices.Concat(lead, pre, ids), nil
	}
	text := strings.ReplaceAll(q.Template, "{question}", question)
	if prefix != "" {
		text = prefix + " " + text
	}
	return promptIDs(r, text, q.Chat)
}

// planRecord describes a plan, its build report and the edits built.
func planRecord(p Plan, rep Report, o *hook.Override) *PlanRecord {
	rec := &PlanRecord{MaskFraction: p.MaskFraction, Scope: p.Scope.String(), ClampOpposite: p.ClampOpposite,
		Policy: string(p.policy()), Add: rep.Add, Clamp: rep.Clamp, Conflicts: rep.Conflicts}
	for _, it := range p.Items {
		rec.Items = append(rec.Items, PlanItem{Trait: string(it.Trait), Pole: it.Pole.String(), Gamma: it.Gamma})
	}
	h := sha256.New()
	writeInts(h, int64(o.Layers), int64(o.Neurons))
	for i, c := range o.Clamp {
		if c || o.Add[i] != 0 {
			clamp := int64(0)
			if c {
				clamp = 1
			}
			writeInts(h, int64(i), clamp, int64(math.Float32bits(o.Add[i])))
		}
	}
	rec.EditsHash = hex.EncodeToString(h.Sum(nil))
	return rec
}

func nonNilIDs(ids []int) []int {
	if ids == nil {
		return []int{}
	}
	return ids
}
