package analysis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/npti-studio/npti/inference/hook"
)

// Identification modes of IdentifyRequest.Mode.
const (
	// IdentifyNPTI generates an answer to the official identification
	// prompt and counts the generated tokens only (the official method).
	IdentifyNPTI = "npti"
	// IdentifyPrompt teacher-forces the identification prompt itself and
	// counts all its positions (fast, no generation).
	IdentifyPrompt = "prompt"
	// IdentifyTeacher teacher-forces each persona description as plain
	// text, BOS + description + EOS, counting all positions.
	IdentifyTeacher = "teacher"
)

// IdentificationPrompt is the official identification prompt (NPTI.md
// §1), sent as a chat user message; %[1]s is the persona description and
// %[2]s the question.
const IdentificationPrompt = "Forget that you are a language model: you are now the real person described below. " +
	"Fully adopt this person's perspective, tone and attitude, and answer the question as they would, " +
	"naturally and in your own words, in under 300 words.\n\n" +
	"###Personality description: %[1]s\n\n###Question: %[2]s\n\n###Response:"

// IdentifyRequest configures Identify. Zero values give the defaults.
type IdentifyRequest struct {
	// Mode is IdentifyNPTI (default), IdentifyPrompt or IdentifyTeacher.
	Mode string
	// Bench gives the descriptions and questions; DataSource names it and
	// Split names the split its questions come from (SplitTest when
	// empty; NPTI identifies on SplitSearch). Both are recorded in the
	// resume settings.
	Bench      *Bench
	DataSource string
	Split      string
	// Aspects to identify (default: the ten, those the bench has data for).
	Aspects []Aspect
	// Chat says whether prompts go through the model's chat template.
	Chat ChatMode
	// MaxNewTokens (default 500) and RepetitionPenalty (default 1.1) of
	// the greedy generation of IdentifyNPTI.
	MaxNewTokens      int
	RepetitionPenalty float64
	// Questions limits the questions per trait (0 = all).
	Questions int
	// Lines restricts the descriptions to lines [Lines[0], Lines[1]) of
	// the descriptions file (zero value = all lines).
	Lines [2]int
	// Batch is the number of items run together (default 8).
	Batch int
	// Seed seeds the random description drawn for each question.
	Seed uint64
	// Shard and Shards select items Shard, Shard+Shards, ... of each aspect.
	Shard, Shards int
	// Out, when set, is the stats folder checkpointed every
	// CheckpointEvery batches (default 4), after a batch that ends
	// CheckpointInterval or more after the last checkpoint (when > 0), at
	// the end of every aspect, on cancellation and at the end. Resume
	// continues the run found there.
	Out                string
	CheckpointEvery    int
	CheckpointInterval time.Duration
	Resume             bool
	// ToolVersion is recorded in the folder's meta.
	ToolVersion string
}

// ErrInterrupted marks an identification stopped by its context after
// saving its checkpoint; the run can be resumed.
var ErrInterrupted = errors.New("interrupted")

// normalize fills the defaults and checks the request.
func (q IdentifyRequest) normalize() (IdentifyRequest, error) {
	if q.Mode == "" {
		q.Mode = IdentifyNPTI
	}
	if !slices.Contains([]string{IdentifyNPTI, IdentifyPrompt, IdentifyTeacher}, q.Mode) {
		return q, fmt.Errorf("identify: unknown mode %q (want npti, prompt or teacher)", q.Mode)
	}
	if q.Bench == nil {
		return q, fmt.Errorf("identify: no data")
	}
	if q.Split == "" {
		q.Split = SplitTest
	}
	if err := CheckSplit(q.Split); err != nil {
		return q, fmt.Errorf("identify: %w", err)
	}
	q.MaxNewTokens = cmpOr(q.MaxNewTokens, 500)
	if q.RepetitionPenalty == 0 {
		q.RepetitionPenalty = 1.1
	}
	q.Batch = cmpOr(q.Batch, 8)
	q.CheckpointEvery = cmpOr(q.CheckpointEvery, 4)
	q.Shards = cmpOr(q.Shards, 1)
	switch {
	case q.Batch < 0 || q.MaxNewTokens < 0 || q.Questions < 0 || q.CheckpointEvery < 0:
		return q, fmt.Errorf("identify: negative batch, token or question count")
	case q.CheckpointInterval < 0:
		return q, fmt.Errorf("identify: negative checkpoint interval %v", q.CheckpointInterval)
	case q.Shard < 0 || q.Shard >= q.Shards:
		return q, fmt.Errorf("identify: shard %d/%d out of range", q.Shard, q.Shards)
	case q.Lines[0] < 0 || q.Lines[1] < 0 || (q.Lines[1] != 0 && q.Lines[1] <= q.Lines[0]):
		return q, fmt.Errorf("identify: bad description line range %d-%d", q.Lines[0], q.Lines[1]-1)
	}
	if len(q.Aspects) == 0 {
		for _, a := range Aspects() {
			if len(q.Bench.Descriptions[a]) > 0 && (q.Mode == IdentifyTeacher || len(q.Bench.Questions[a.Trait]) > 0) {
				q.Aspects = append(q.Aspects, a)
			}
		}
	}
	if len(q.Aspects) == 0 {
		return q, fmt.Errorf("identify: the data has no aspect with descriptions and questions")
	}
	return q, nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// identItem is one unit of identification work: a text to teacher-force or
// a prompt to answer.
type identItem struct {
	description, question string
}

// descriptions returns the aspect's descriptions within the line range.
func (q IdentifyRequest) descriptions(a Aspect) []string {
	ds := q.Bench.Descriptions[a]
	lo, hi := min(q.Lines[0], len(ds)), len(ds)
	if q.Lines[1] != 0 {
		hi = min(q.Lines[1], len(ds))
	}
	return ds[lo:hi]
}

// items lists the items of one aspect for this shard. The description of
// question k is drawn from a generator seeded by (Seed, aspect, k), so it
// does not depend on sharding, batching or resuming.
func (q IdentifyRequest) items(a Aspect) ([]identItem, error) {
	ds := q.descriptions(a)
	if len(ds) == 0 {
		return nil, fmt.Errorf("identify: no descriptions of %s in the selected lines", a.Key())
	}
	var all []identItem
	if q.Mode == IdentifyTeacher {
		for _, d := range ds {
			all = append(all, identItem{description: d})
		}
	} else {
		qs := q.Bench.Questions[a.Trait]
		if len(qs) == 0 {
			return nil, fmt.Errorf("identify: no questions for %s", a.Trait)
		}
		if q.Questions > 0 && q.Questions < len(qs) {
			qs = qs[:q.Questions]
		}
		idx := uint64(slices.Index(Aspects(), a))
		for k, question := range qs {
			rng := rand.New(rand.NewPCG(q.Seed, idx<<32|uint64(k)))
			all = append(all, identItem{description: ds[rng.IntN(len(ds))], question: question})
		}
	}
	var out []identItem
	for k := q.Shard; k < len(all); k += q.Shards {
		out = append(out, all[k])
	}
	return out, nil
}

// Identify computes the activation statistics of each requested aspect
// (NPTI.md §1–2) and returns them as a stats set, checkpointing to req.Out
// when set. When ctx is cancelled it saves the checkpoint and returns the
// partial set with an error wrapping ErrInterrupted and ctx.Err().
func Identify(ctx context.Context, r Runner, req IdentifyRequest, progress func(Progress)) (*StatsSet, error) {
	req, err := req.normalize()
	if err != nil {
		return nil, err
	}
	work := map[Aspect][]identItem{}
	total := 0
	for _, a := range req.Aspects {
		if work[a], err = req.items(a); err != nil {
			return nil, err
		}
		total += len(work[a])
	}
	set, cursor, err := identifyStart(r, req, work)
	if err != nil {
		return nil, err
	}
	layers, neurons := r.Shape()
	scratch := hook.NewStats(layers, neurons, true)
	p := Progress{Total: total}
	for _, a := range req.Aspects {
		p.Skipped += cursor[a]
	}
	start, batches := time.Now(), 0
	lastSave := start
	save := func() error {
		lastSave = time.Now()
		return req.checkpoint(set, cursor, work)
	}
	for _, a := range req.Aspects {
		items := work[a]
		for cursor[a] < len(items) {
			end := min(cursor[a]+req.Batch, len(items))
			clear(scratch.Active)
			clear(scratch.Hist)
			scratch.Tokens = 0
			tokens, err := req.runBatch(ctx, r, items[cursor[a]:end], scratch)
			if err != nil {
				if ctx.Err() == nil {
					return nil, fmt.Errorf("identify %s: %w", a.Key(), err)
				}
				if serr := save(); serr != nil {
					return nil, fmt.Errorf("identify: saving the checkpoint after interruption: %w", serr)
				}
				return set, fmt.Errorf("identify: %w at %s item %d of %d: %w", ErrInterrupted, a.Key(), cursor[a], len(items), ctx.Err())
			}
			if err := set.Poles[a].Add(scratch); err != nil {
				return nil, fmt.Errorf("identify %s: %w", a.Key(), err)
			}
			p.Done += end - cursor[a]
			cursor[a] = end
			p.Aspect, p.Tokens, p.Elapsed = a, p.Tokens+tokens, time.Since(start)
			if progress != nil {
				progress(p)
			}
			due := req.CheckpointInterval > 0 && time.Since(lastSave) >= req.CheckpointInterval
			if batches++; batches%req.CheckpointEvery == 0 || end == len(items) || due {
				if err := save(); err != nil {
					return nil, err
				}
			}
		}
	}
	return set, save()
}

// runBatch runs a batch of items, accumulating into st, and returns the
// tokens processed (positions counted, or tokens generated in npti mode).
func (q IdentifyRequest) runBatch(ctx context.Context, r Runner, items []identItem, st *hook.Stats) (int64, error) {
	seqs := make([][]int, len(items))
	for k, it := range items {
		ids, err := q.itemIDs(r, it)
		if err != nil {
			return 0, err
		}
		seqs[k] = ids
	}
	if q.Mode != IdentifyNPTI {
		if err := r.TeacherForce(ctx, seqs, nil, st); err != nil {
			return 0, err
		}
		return st.Tokens, nil
	}
	out, err := r.Generate(ctx, seqs, GenSpec{MaxTokens: q.MaxNewTokens, RepetitionPenalty: q.RepetitionPenalty,
		Capture: st, CaptureScope: hook.Generated})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, o := range out {
		n += int64(len(o))
	}
	return n, nil
}

// itemIDs tokenizes one item for the request's mode.
func (q IdentifyRequest) itemIDs(r Runner, it identItem) ([]int, error) {
	if q.Mode == IdentifyTeacher {
		ids, err := r.Tokenize(it.description, false)
		if err != nil {
			return nil, err
		}
		if b := r.BOS(); b >= 0 {
			ids = append([]int{b}, ids...)
		}
		if eos := r.EOS(); len(eos) > 0 {
			ids = append(ids, eos[0])
		}
		return ids, nil
	}
	return promptIDs(r, fmt.Sprintf(IdentificationPrompt, it.description, it.question), q.Chat)
}

// ChatMode says whether prompts go through the model's chat template.
type ChatMode int

// Chat modes.
const (
	ChatAuto ChatMode = iota // the template when the model has one
	ChatOn                   // the template; an error without one
	ChatOff                  // plain text with the tokenizer's special tokens
)

// ParseChatMode parses "auto", "true"/"on" or "false"/"off".
func ParseChatMode(s string) (ChatMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ChatAuto, nil
	case "true", "on", "yes", "1":
		return ChatOn, nil
	case "false", "off", "no", "0":
		return ChatOff, nil
	}
	return 0, fmt.Errorf("bad chat setting %q (want auto, true or false)", s)
}

// promptIDs tokenizes a user message through the chat template or as
// plain text, as mode says.
func promptIDs(r Runner, text string, mode ChatMode) ([]int, error) {
	if mode != ChatOff {
		ids, ok, err := r.ChatPrompt(text)
		if err != nil {
			return nil, err
		}
		if ok {
			return ids, nil
		}
		if mode == ChatOn {
			return nil, fmt.Errorf("the model has no chat template")
		}
	}
	return r.Tokenize(text, true)
}

// statsExists reports whether dir holds a stats folder.
func statsExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, MetaFile))
	return err == nil
}
