package analysis

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// fakeSets returns small neuron sets of both poles of Extraversion for the
// 2 × 5 fake model.
func fakeSets() Sets {
	return Sets{
		{Extraversion, High}: {{Layer: 0, Index: 1, Diff: 0.3, P: 0.5, Q95: 0.4}, {Layer: 1, Index: 2, Diff: 0.2, P: 0.4, Q95: 0.3}},
		{Extraversion, Low}:  {{Layer: 0, Index: 3, Diff: 0.25, P: 0.5, Q95: 0.2}},
	}
}

func fakeInduce(t *testing.T) InduceRequest {
	return InduceRequest{Questions: []string{"q one", "q two", "q three"}, Sets: fakeSets(), MaxNewTokens: 6,
		Plan:         DefaultPlan(Induction{Trait: Extraversion, Pole: High, Gamma: 1}),
		Conditions:   Conditions(),
		Descriptions: probeBench(t).Descriptions}
}

func TestInduceBatchesAndResume(t *testing.T) {
	r := newFake()
	var got []Answer
	req := fakeInduce(t)
	if err := Induce(context.Background(), r, req, func(a Answer) error { got = append(got, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("%d answers, want 3 questions × 4 conditions", len(got))
	}
	// Per question: one batch of two with the override on row 1 only, then
	// the two prompt baselines without override.
	for q := 0; q < 3; q++ {
		if c := r.generateCalls[2*q]; !slices.Equal(c, []bool{false, true}) {
			t.Errorf("question %d: steering batch rows %v", q, c)
		}
		if c := r.generateCalls[2*q+1]; c != nil {
			t.Errorf("question %d: baseline batch rows %v", q, c)
		}
	}
	un, in := got[0], got[1]
	if un.Condition != CondUnsteered || in.Condition != CondInduced || !slices.Equal(un.PromptIDs, in.PromptIDs) {
		t.Fatalf("first answers: %+v / %+v", un, in)
	}
	if slices.Equal(un.IDs, in.IDs) || in.Plan == nil || in.Plan.Add != 2 || in.Plan.Clamp != 1 || in.Gamma != 1 || un.Plan != nil {
		t.Errorf("induced answer: %+v", in)
	}
	adj, per := got[2], got[3]
	if !strings.HasPrefix(string(byteText(adj.PromptIDs)), "Imagine you are an extraverted person.") {
		t.Errorf("adjective prompt %q", byteText(adj.PromptIDs))
	}
	if !strings.Contains(string(byteText(per.PromptIDs)), "described here") {
		t.Errorf("persona prompt %q", byteText(per.PromptIDs))
	}
	// Resume: answers already written are skipped, the rest regenerated
	// identically.
	done := map[string]bool{}
	for _, a := range got[:6] {
		done[AnswerKey(a)] = true
	}
	req.Done = done
	var rest []Answer
	if err := Induce(context.Background(), newFake(), req, func(a Answer) error { rest = append(rest, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rest) != 6 || rest[0].Index != 1 || rest[0].Condition != CondAdjective || !slices.Equal(rest[5].IDs, got[11].IDs) {
		t.Errorf("resumed answers: %d, first %+v", len(rest), rest[0])
	}
}

// byteText inverts the fake tokenizer well enough to read prompts.
func byteText(ids []int) []byte {
	var b []byte
	for _, id := range ids {
		if id >= 3 {
			b = append(b, byte(id-3))
		}
	}
	return b
}

func TestInducePlainOpenings(t *testing.T) {
	req := fakeInduce(t)
	req.Plain, req.Questions, req.Conditions = true, []string{"Hi"}, []string{CondUnsteered, CondAdjective}
	var got []Answer
	if err := Induce(context.Background(), newFake(), req, func(a Answer) error { got = append(got, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if got[0].PromptIDs[0] != 1 || len(got[0].PromptIDs) != 3 || got[1].PromptIDs[0] != 1 || len(got[1].PromptIDs) <= 3 {
		t.Errorf("plain prompts %v / %v", got[0].PromptIDs, got[1].PromptIDs)
	}
	for _, bad := range []func(*InduceRequest){
		func(q *InduceRequest) { q.Questions = nil },
		func(q *InduceRequest) { q.Conditions = []string{"other"} },
		func(q *InduceRequest) { q.Template = "no placeholder" },
		func(q *InduceRequest) { q.Descriptions = nil },
	} {
		q := fakeInduce(t)
		bad(&q)
		if err := Induce(context.Background(), newFake(), q, func(Answer) error { return nil }); err == nil {
			t.Errorf("bad request %+v: no error", q)
		}
	}
}

func TestAnswersFileResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	w, done, err := OpenAnswers(path, false)
	if err != nil || len(done) != 0 {
		t.Fatal(err)
	}
	a := Answer{Question: "q", Condition: CondInduced, Trait: "Extraversion", Pole: "high", Gamma: 1.4, Answer: "x", IDs: []int{5}}
	if err := w.Write(a); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"question":"q2","cond`) // a killed write
	f.Close()
	if _, _, err := OpenAnswers(path, false); err == nil {
		t.Fatal("reopening a non-empty file without resume must fail")
	}
	w, done, err = OpenAnswers(path, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	b := a
	b.Gamma = 1
	// The answer, and (it lists no plan items) its key for old files.
	if AnswersDone(done) != 1 || len(done) != 2 || !done[AnswerKey(a)] || !done[oldItems+AnswerKey(a)] || done[AnswerKey(b)] {
		t.Errorf("done = %v", done)
	}
	back, err := ReadAnswers(path)
	if err != nil || len(back) != 1 || back[0].Gamma != 1.4 {
		t.Errorf("after resume: %v, %v", back, err)
	}
}

func TestParseAnswersErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"question":"q","condition":"induced"}` + "\n" + `[1]`, "a.jsonl:2: want an answer object"},
		{`{"question":"","condition":"induced"}`, `a.jsonl:1: missing or empty "question"`},
		{`{"question":"q","condition":"loud"}`, `unknown condition "loud"`},
		{`{"question":"q","condition":"induced","trait":"Humour"}`, `unknown trait "Humour"`},
		{`{"question":"q","condition":"induced","pole":"up"}`, `unknown pole "up"`},
		{`{"question":"q","condition":"induced","ids":[-1]}`, "token id -1 out of range"},
		{`{"question":"q","condition":"induced"} {}`, "trailing data"},
	} {
		_, err := ParseAnswers("a.jsonl", strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.in, err, c.want)
		}
	}
}

func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte(`{"question":"q","condition":"unsteered","trait":"Openness","pole":"low","ids":[1,2],"plan":{"items":[]}}`))
	f.Add([]byte("{\"question\":\"q\",\"condition\":\"persona\"}\n\n{\"question\":1}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, err := ParseAnswers("fuzz.jsonl", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, a := range as {
			if a.Question == "" || !slices.Contains(Conditions(), a.Condition) || math.IsNaN(a.Gamma) {
				t.Fatalf("accepted a bad answer %+v", a)
			}
		}
	})
}

func TestScoreAndSweep(t *testing.T) {
	sc, err := TrainScorers(probeBench(t))
	if err != nil {
		t.Fatal(err)
	}
	req := SweepRequest{Induce: fakeInduce(t), Gammas: []float64{0.5, 1}, Scorers: sc, Baselines: true, MaxFluencyCost: new(10.0),
		Variants: []Variant{{Name: "npti"}, {Name: "topk:1", TopK: 1}, {Name: "add-only", NoClamp: true}, {Name: "clamp-only", NoAdd: true}}}
	var last Progress
	res, err := Sweep(context.Background(), newFake(), req, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != last.Total || last.Total != 1+2+2+2+1 {
		t.Errorf("progress %+v", last)
	}
	if len(res.Points) != 7 || len(res.Baselines) != 2 || res.Unsteered.N != 3 || res.Unsteered.NLL <= 0 {
		t.Fatalf("result %+v", res)
	}
	for _, s := range res.SweetSpots {
		if !s.Found {
			t.Errorf("variant %s: no sweet spot under a bound of 10 nats", s.Variant)
		}
	}
	var csv bytes.Buffer
	if err := res.WriteCSV(&csv); err != nil || strings.Count(csv.String(), "\n") != 1+1+2+7 || !strings.Contains(csv.String(), ",true\n") {
		t.Errorf("csv:\n%s (%v)", csv.String(), err)
	}
	for _, v := range []string{"npti", "topk:500", "add-only", "clamp-only"} {
		if _, err := ParseVariant(v); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseVariant("topk:0"); err == nil {
		t.Error("topk:0 accepted")
	}
}

// TestSweepFluencyBound: an explicit bound of 0 is kept (only points
// no less fluent than unsteered qualify), nil means the default, and
// negative, NaN and infinite bounds are refused.
func TestSweepFluencyBound(t *testing.T) {
	sc, err := TrainScorers(probeBench(t))
	if err != nil {
		t.Fatal(err)
	}
	req := SweepRequest{Induce: fakeInduce(t), Gammas: []float64{0.5, 1}, Scorers: sc,
		Variants: []Variant{{Name: "npti"}, {Name: "clamp-only", NoAdd: true}}}
	for _, tt := range []struct {
		bound *float64
		want  float64
	}{{new(0.0), 0}, {nil, DefaultMaxFluencyCost}, {new(0.25), 0.25}} {
		req.MaxFluencyCost = tt.bound
		found := 0
		res, err := Sweep(context.Background(), newFake(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.MaxFluencyCost != tt.want {
			t.Errorf("bound %v: result records %v, want %v", tt.bound, res.MaxFluencyCost, tt.want)
		}
		for _, s := range res.SweetSpots {
			within := false
			for _, pt := range res.Points {
				within = within || (pt.Variant == s.Variant && pt.NLL-res.Unsteered.NLL <= tt.want)
			}
			if s.Found != within || (s.Found && s.Cost > tt.want) {
				t.Errorf("bound %v: sweet spot %+v (a point within the bound: %v)", tt.want, s, within)
			}
			if s.Found {
				found++
			}
		}
		// The fake's steered answers cost about 0.7 nats: a bound of 0
		// (once read as the default 1) must find no sweet spot.
		if (found == 0) != (tt.want < 0.5) {
			t.Errorf("bound %v: %d sweet spots", tt.want, found)
		}
	}
	for _, bad := range []float64{-0.5, math.NaN(), math.Inf(1)} {
		req.MaxFluencyCost = &bad
		if _, err := Sweep(context.Background(), newFake(), req, nil); err == nil || !strings.Contains(err.Error(), "max fluency cost") {
			t.Errorf("bound %v: error %v", bad, err)
		}
	}
}

func TestSweetSpots(t *testing.T) {
	res := &SweepResult{MaxFluencyCost: 1, Unsteered: SweepPoint{Score: 0.3, NLL: 1},
		Points: []SweepPoint{
			{Variant: "npti", Gamma: 0.6, Score: 0.5, NLL: 1.5},
			{Variant: "npti", Gamma: 1.0, Score: 0.8, NLL: 1.9},
			{Variant: "npti", Gamma: 1.4, Score: 0.9, NLL: 2.5}, // best shift, but over the bound
			{Variant: "x", Gamma: 1, Score: 0.2, NLL: 3},
		}}
	got := sweetSpots(res, []Variant{{Name: "npti"}, {Name: "x"}})
	if !got[0].Found || got[0].Gamma != 1.0 || math.Abs(got[0].Shift-0.5) > 1e-12 || math.Abs(got[0].Cost-0.9) > 1e-12 {
		t.Errorf("npti sweet spot %+v", got[0])
	}
	if got[1].Found {
		t.Errorf("variant over the bound everywhere: %+v", got[1])
	}
}

func TestSummarize(t *testing.T) {
	s := []Scored{
		{Answer: Answer{Condition: CondInduced, Trait: "Extraversion", Pole: "high", Gamma: 1, Answer: "a b"}, PHigh: 0.9, NLL: 2, NLLTokens: 2},
		{Answer: Answer{Condition: CondInduced, Trait: "Extraversion", Pole: "high", Gamma: 1, Answer: "a c"}, PHigh: 0.7, NLL: 5, NLLTokens: 1},
		{Answer: Answer{Condition: CondUnsteered, Trait: "Extraversion", Pole: "low", Answer: "a"}, PHigh: 0.4},
		{Answer: Answer{Condition: CondUnsteered, Trait: "Extraversion", Pole: "high", Answer: "a"}, PHigh: 0.2},
		{Answer: Answer{Condition: CondUnsteered, Trait: "Openness", Answer: "z"}, PHigh: 0.5},
	}
	rows := Summarize(s)
	if len(rows) != 3 || rows[0].Trait != "Openness" || rows[1].Condition != CondUnsteered || rows[1].N != 2 {
		t.Fatalf("rows %+v", rows)
	}
	in := rows[2]
	if math.Abs(in.PHigh-0.8) > 1e-12 || in.NLL != 3 || in.Distinct1 != 1 || in.Distinct2 != 1 { // distinct-n per answer
		t.Errorf("induced row %+v", in)
	}
	_ = hook.Generated
}

// TestInduceResumeKeysSettings: a resumed run reuses only answers made
// with the same prompt and edits. The prompt baselines of a plan with
// another second item, a changed template and other neuron sets (of the
// same size) all give new answers. The unsteered answer, whose prompt and
// edits do not change with the plan, is reused when the neuron sets
// change, but not for another second item: it is labelled with every
// item of its plan (Answer.Items), and scored and judged on them.
func TestInduceResumeKeysSettings(t *testing.T) {
	req, sets := twoTraitInduce(t, Induction{Trait: Neuroticism, Pole: High, Gamma: 1})
	done := map[string]bool{}
	run := func(q InduceRequest) []string {
		t.Helper()
		q.Done = done
		var conds []string
		err := Induce(context.Background(), newFake(), q, func(a Answer) error {
			done[AnswerKey(a)] = true
			conds = append(conds, a.Condition)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return conds
	}
	count := func(conds []string) map[string]int {
		m := map[string]int{}
		for _, c := range conds {
			m[c]++
		}
		return m
	}
	if got := run(req); len(got) != 12 {
		t.Fatalf("first run: %d answers", len(got))
	}
	if got := run(req); len(got) != 0 {
		t.Errorf("the same run again made %d answers", len(got))
	}
	// The repro: neuroticism:high became neuroticism:low.
	low := req
	low.Plan.Items = []Induction{{Trait: Extraversion, Pole: High, Gamma: 1}, {Trait: Neuroticism, Pole: Low, Gamma: 1}}
	if got := count(run(low)); got[CondAdjective] != 3 || got[CondPersona] != 3 || got[CondInduced] != 3 || got[CondUnsteered] != 3 {
		t.Errorf("another second item: new answers %v; want 3 of each condition", got)
	}
	tmpl := low
	tmpl.Template = "Q: {question}\nA:"
	if got := count(run(tmpl)); got[CondUnsteered] != 3 || len(got) != 4 {
		t.Errorf("another template: new answers %v; want every condition", got)
	}
	moved := tmpl
	moved.Sets = Sets{}
	for a, ns := range sets {
		moved.Sets[a] = ns
	}
	moved.Sets[Aspect{Extraversion, High}] = []Neuron{{Layer: 0, Index: 2, Diff: 0.3, P: 0.5, Q95: 0.4}, {Layer: 1, Index: 2, Diff: 0.2, P: 0.4, Q95: 0.3}}
	if got := count(run(moved)); got[CondInduced] != 3 || len(got) != 1 {
		t.Errorf("other neuron sets of the same size: new answers %v; want the 3 induced", got)
	}
	// Answers written before plans recorded their edits' hash: a resume
	// takes their induced answers as done instead of adding second ones.
	legacy := map[string]bool{}
	err := Induce(context.Background(), newFake(), moved, func(a Answer) error {
		if a.Plan != nil {
			p := *a.Plan
			p.EditsHash = ""
			a.Plan = &p
		}
		legacy[AnswerKey(a)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	moved.Done = legacy
	var again []string
	if err := Induce(context.Background(), newFake(), moved, func(a Answer) error { again = append(again, a.Condition); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("resuming answers without an edits hash made new ones: %v", count(again))
	}
}

// TestMultiTraitScoreAndRunSettings: every answer of a two-trait plan is
// labelled with both items, scored on both traits and summarised per
// trait; induced runs of the same plan with another scope, mask fraction
// or clamp setting get rows of their own instead of being pooled.
func TestMultiTraitScoreAndRunSettings(t *testing.T) {
	sc, err := TrainScorers(probeBench(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := twoTraitInduce(t, Induction{Trait: Neuroticism, Pole: Low, Gamma: 1.5})
	var answers []Answer
	collect := func(a Answer) error { answers = append(answers, a); return nil }
	if err := Induce(context.Background(), newFake(), req, collect); err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if a.Trait != "Extraversion" || a.Pole != "high" || len(a.Items) != 2 || a.Items[1] != (PlanItem{"Neuroticism", "low", 1.5}) {
			t.Fatalf("answer labels %s %s %+v", a.Trait, a.Pole, a.Items)
		}
	}
	// Through the answers file: the items survive a write and a read.
	path := filepath.Join(t.TempDir(), "a.jsonl")
	w, _, err := OpenAnswers(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if err := w.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	read, err := ReadAnswers(path)
	if err != nil || len(read) != 12 || len(read[5].Items) != 2 {
		t.Fatalf("read back %d answers (%v)", len(read), err)
	}
	scored, err := ScoreAnswers(context.Background(), read, sc, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scored {
		if len(s.Scores) != 2 || s.Scores[0].Trait != "Extraversion" || s.Scores[1].Trait != "Neuroticism" || s.PHigh != s.Scores[0].PHigh {
			t.Fatalf("scores %+v", s.Scores)
		}
		if want := sc[Neuroticism].PHigh(s.Answer.Answer); s.Scores[1].PHigh != want {
			t.Errorf("neuroticism score %v, want the neuroticism scorer's %v", s.Scores[1].PHigh, want)
		}
	}
	type key struct{ trait, cond, pole string }
	rows := map[key]SummaryRow{}
	for _, r := range Summarize(scored) {
		k := key{r.Trait, r.Condition, r.Pole}
		if _, dup := rows[k]; dup {
			t.Errorf("two rows for %v", k)
		}
		rows[k] = r
	}
	if len(rows) != 8 {
		t.Errorf("%d rows, want 2 traits × (unsteered, induced, adjective, persona)", len(rows))
	}
	n := rows[key{"Neuroticism", CondInduced, "low"}]
	if n.N != 3 || n.Gamma != 1.5 || n.Plan != "extraversion:high:1,neuroticism:low:1.5" || n.Scope != "generated" ||
		n.MaskFraction != 0.9 || n.Clamp != "on" || n.EditsHash != read[1].Plan.EditsHash {
		t.Errorf("induced neuroticism row %+v", n)
	}
	if u := rows[key{"Neuroticism", CondUnsteered, ""}]; u.N != 3 || u.RunSettings != (RunSettings{}) {
		t.Errorf("unsteered neuroticism row %+v", u)
	}
	if a := rows[key{"Neuroticism", CondAdjective, "low"}]; a.N != 3 || a.Plan != "extraversion:high,neuroticism:low" {
		t.Errorf("adjective neuroticism row %+v", a)
	}
	// The same plan with scope all, mask 1 and no clamp, induced into the
	// same answers: three more induced rows per trait, not pooled.
	for _, change := range []func(*Plan){
		func(p *Plan) { p.Scope = hook.All },
		func(p *Plan) { p.MaskFraction = 1 },
		func(p *Plan) { p.ClampOpposite = false },
	} {
		q := req
		change(&q.Plan)
		q.Conditions = []string{CondInduced}
		if err := Induce(context.Background(), newFake(), q, collect); err != nil {
			t.Fatal(err)
		}
	}
	if scored, err = ScoreAnswers(context.Background(), answers, sc, nil, 0); err != nil {
		t.Fatal(err)
	}
	var induced []SummaryRow
	for _, r := range Summarize(scored) {
		if r.Condition == CondInduced && r.Trait == "Neuroticism" {
			induced = append(induced, r)
		}
		if r.N != 3 {
			t.Errorf("row pools %d answers: %+v", r.N, r)
		}
	}
	if len(induced) != 4 {
		t.Fatalf("%d induced neuroticism rows, want 4 (one per setting): %+v", len(induced), induced)
	}
	seen := map[string]bool{}
	for _, r := range induced {
		seen[r.RunSettings.Label()] = true
	}
	if len(seen) != 4 {
		t.Errorf("run settings do not tell the runs apart: %v", seen)
	}
}

// An answers file written before answers listed their plan items (no
// "items", no edits hash) resumes a multi-trait plan without a second
// copy of any answer.
func TestInduceResumeOldMultiTraitFile(t *testing.T) {
	req, _ := twoTraitInduce(t, Induction{Trait: Neuroticism, Pole: Low, Gamma: 1})
	path := filepath.Join(t.TempDir(), "old.jsonl")
	w, _, err := OpenAnswers(path, false)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = Induce(context.Background(), newFake(), req, func(a Answer) error {
		a.Items = nil // as an earlier version wrote them
		if a.Plan != nil {
			p := *a.Plan
			p.EditsHash = ""
			a.Plan = &p
		}
		n++
		return w.Write(a)
	})
	w.Close()
	if err != nil || n == 0 {
		t.Fatalf("first run: %d answers, %v", n, err)
	}
	_, done, err := OpenAnswers(path, true)
	if err != nil {
		t.Fatal(err)
	}
	req.Done = done
	var again []string
	if err := Induce(context.Background(), newFake(), req, func(a Answer) error { again = append(again, a.Condition); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("resuming the old file made %d new answers: %v", len(again), again)
	}
}

// twoTraitInduce is fakeInduce with Neuroticism sets and a two-item plan:
// Extraversion high (γ 1) and second.
func twoTraitInduce(t *testing.T, second Induction) (InduceRequest, Sets) {
	sets := fakeSets()
	sets[Aspect{Neuroticism, High}] = []Neuron{{Layer: 1, Index: 4, Diff: 0.3, P: 0.5, Q95: 0.4}}
	sets[Aspect{Neuroticism, Low}] = []Neuron{{Layer: 0, Index: 0, Diff: 0.2, P: 0.5, Q95: 0.3}}
	req := fakeInduce(t)
	req.Sets = sets
	req.Plan = DefaultPlan(Induction{Trait: Extraversion, Pole: High, Gamma: 1}, second)
	return req, sets
}
