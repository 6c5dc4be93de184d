package analysis

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"

	"github.com/npti-studio/npti/inference/hook"
)

// Keys of Meta.Progress written by Identify.
const (
	progressSettings = "settings" // the settings a resumed run must match
	progressCursor   = "cursor"   // aspect key -> items of this shard done
	progressItems    = "items"    // aspect key -> items of this shard
	progressComplete = "complete" // every item done
)

// settings returns what a resumed run must share with its checkpoint.
func (q IdentifyRequest) settings(modelHash string, layers, neurons int) map[string]any {
	var keys []any
	for _, a := range q.Aspects {
		keys = append(keys, a.Key())
	}
	s := map[string]any{
		"mode": q.Mode, "chat": int(q.Chat), "data_source": q.DataSource, "split": q.Split, "aspects": keys,
		"questions": q.Questions, "lines": fmt.Sprintf("%d-%d", q.Lines[0], q.Lines[1]),
		"seed": strconv.FormatUint(q.Seed, 10), "shard": fmt.Sprintf("%d/%d", q.Shard, q.Shards),
		"batch": q.Batch, "model_hash": modelHash, "shape": fmt.Sprintf("%dx%d", layers, neurons),
	}
	if q.Mode == IdentifyNPTI {
		s["max_new_tokens"], s["repetition_penalty"] = q.MaxNewTokens, q.RepetitionPenalty
	}
	return s
}

// identifyStart returns the statistics and item cursors to start from: a
// fresh set, or the checkpoint in req.Out when resuming.
func identifyStart(r Runner, req IdentifyRequest, work map[Aspect][]identItem) (*StatsSet, map[Aspect]int, error) {
	layers, neurons := r.Shape()
	path, hash := r.ModelInfo()
	want := req.settings(hash, layers, neurons)
	cursor := map[Aspect]int{}
	if req.Out != "" && statsExists(req.Out) {
		if !req.Resume {
			return nil, nil, fmt.Errorf("identify: %s already holds statistics: resume the run or choose another folder", req.Out)
		}
		set, err := LoadStats(req.Out)
		if err != nil {
			return nil, nil, fmt.Errorf("identify: resume: %w", err)
		}
		if err := resumeCheck(req.Out, set, want); err != nil {
			return nil, nil, err
		}
		cur, _ := set.Meta.Progress[progressCursor].(map[string]any)
		for _, a := range req.Aspects {
			n, ok := jsonInt(cur[a.Key()])
			if !ok || n < 0 || n > len(work[a]) || set.Poles[a] == nil || set.Poles[a].Hist == nil {
				return nil, nil, fmt.Errorf("identify: resume %s: no valid checkpoint of %s", req.Out, a.Key())
			}
			cursor[a] = n
		}
		return set, cursor, nil
	}
	mode := CountTeacherForced
	sampling := Sampling{Greedy: true}
	if req.Mode == IdentifyNPTI {
		mode = CountGenerated
		sampling.RepetitionPenalty, sampling.MaxNewTokens = req.RepetitionPenalty, req.MaxNewTokens
	}
	set := &StatsSet{Meta: Meta{ToolVersion: req.ToolVersion, Model: path, ModelHash: hash,
		DataSource: req.DataSource, Mode: mode, Seeds: []uint64{req.Seed}, Sampling: sampling,
		Layers: layers, Neurons: neurons, Progress: map[string]any{progressSettings: want}},
		Poles: map[Aspect]*hook.Stats{}}
	for _, a := range req.Aspects {
		set.Poles[a] = hook.NewStats(layers, neurons, true)
		cursor[a] = 0
	}
	return set, cursor, nil
}

// legacySettings fills the settings that older versions did not record
// with the value those versions always used (the questions' split was
// always "test").
func legacySettings(have map[string]any) map[string]any {
	if _, ok := have["split"]; !ok && have != nil {
		have = maps.Clone(have)
		have["split"] = SplitTest
	}
	return have
}

// resumeCheck verifies that a checkpoint was written with the same settings.
func resumeCheck(dir string, set *StatsSet, want map[string]any) error {
	have, _ := set.Meta.Progress[progressSettings].(map[string]any)
	if have == nil {
		return fmt.Errorf("identify: resume %s: the folder records no identification settings", dir)
	}
	have = legacySettings(have)
	if k, differ := settingsDiffer(have, jsonCopy(want)); differ {
		hj, _ := json.Marshal(have[k])
		wj, _ := json.Marshal(want[k])
		return fmt.Errorf("identify: resume %s: setting %q was %s, this run has %s", dir, k, hj, wj)
	}
	return nil
}

// checkpoint records the cursors in the set's meta and saves it to Out.
func (q IdentifyRequest) checkpoint(set *StatsSet, cursor map[Aspect]int, work map[Aspect][]identItem) error {
	cur, items := map[string]any{}, map[string]any{}
	complete := true
	for _, a := range q.Aspects {
		cur[a.Key()], items[a.Key()] = cursor[a], len(work[a])
		complete = complete && cursor[a] == len(work[a])
	}
	if set.Meta.Progress == nil {
		set.Meta.Progress = map[string]any{}
	}
	set.Meta.Progress[progressCursor] = cur
	set.Meta.Progress[progressItems] = items
	set.Meta.Progress[progressComplete] = complete
	if q.Out == "" {
		return nil
	}
	if err := SaveStats(q.Out, set); err != nil {
		return fmt.Errorf("identify: checkpoint: %w", err)
	}
	return nil
}

// jsonInt reads a non-negative integer that went through JSON (float64)
// or was set in memory (int).
func jsonInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		if x == math.Trunc(x) && x >= 0 && x < 1<<31 {
			return int(x), true
		}
	}
	return 0, false
}
