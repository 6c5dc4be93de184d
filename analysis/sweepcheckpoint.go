package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// sweepCheckpointFormat is the version of a sweep checkpoint file.
const sweepCheckpointFormat = 1

// sweepCheckpoint is the content of SweepRequest.Checkpoint: the settings
// of the sweep and the points of every finished run, by runKey.
type sweepCheckpoint struct {
	Format   int                     `json:"format"`
	Settings map[string]any          `json:"settings"`
	Runs     map[string]sweepRunDone `json:"runs"`
	// Complete is set once every run of the sweep is done.
	Complete bool `json:"complete"`
}

// sweepRunDone is one finished run: its points and the tokens generated.
type sweepRunDone struct {
	Points []SweepPoint `json:"points"`
	Tokens int64        `json:"tokens"`
}

// baselineRunKey names the run of the unsteered (and prompt) conditions.
func baselineRunKey(conds []string) string { return "baseline:" + strings.Join(conds, "+") }

// variantRunKey names the run of one variant at one γ.
func variantRunKey(v Variant, gamma float64) string {
	return fmt.Sprintf("%s|topk=%d|no_clamp=%t|no_add=%t@%s", v.Name, v.TopK, v.NoClamp, v.NoAdd,
		strconv.FormatFloat(gamma, 'g', -1, 64))
}

// sweepSettings returns what a resumed sweep must share with its
// checkpoint: everything that shapes a run's points except the γ and the
// variant, which key the runs (so a resumed sweep may add γ values or
// variants).
func sweepSettings(r Runner, req SweepRequest) (map[string]any, error) {
	q, err := req.Induce.normalize()
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	path, mhash := r.ModelInfo()
	if mhash == "" {
		mhash = "path:" + path
	}
	layers, neurons := r.Shape()
	item := q.Plan.Items[0]
	a := item.Aspect()
	scorers, err := json.Marshal(req.Scorers)
	if err != nil {
		return nil, fmt.Errorf("sweep: scorers: %w", err)
	}
	s := map[string]any{
		"model_hash": mhash, "shape": fmt.Sprintf("%dx%d", layers, neurons),
		"questions": hashStrings(q.Questions), "plain": q.Plain, "template": q.Template, "chat": int(q.Chat),
		"trait": string(a.Trait), "pole": a.Pole.String(), "mask_fraction": q.Plan.MaskFraction,
		"seed": strconv.FormatUint(q.Plan.Seed, 10), "scope": q.Plan.Scope.String(), "clamp_opposite": q.Plan.ClampOpposite,
		"policy": string(q.Plan.policy()), "sets": q.Sets.Hash(), "descriptions": hashStrings(q.Descriptions[a]),
		"max_new_tokens": q.MaxNewTokens, "repetition_penalty": q.RepetitionPenalty,
		"scorers": hashBytes(scorers),
	}
	return jsonCopy(s), nil
}

// hashStrings returns the count and a hex SHA-256 of a list of strings.
func hashStrings(ss []string) string {
	h := sha256.New()
	for _, s := range ss {
		fmt.Fprintf(h, "%d:%s\x00", len(s), s)
	}
	return fmt.Sprintf("%d:%s", len(ss), hex.EncodeToString(h.Sum(nil)))
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// loadSweepCheckpoint returns the checkpoint to continue: an empty one
// for a fresh sweep, the file's runs when resuming with the same
// settings. A checkpoint of an unfinished sweep is kept from being
// overwritten by a sweep that does not resume.
func loadSweepCheckpoint(path string, resume bool, want map[string]any) (*sweepCheckpoint, error) {
	fresh := &sweepCheckpoint{Format: sweepCheckpointFormat, Settings: want, Runs: map[string]sweepRunDone{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fresh, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sweep: checkpoint: %w", err)
	}
	var c sweepCheckpoint
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("sweep: checkpoint %s: %w", path, err)
	}
	if c.Format != sweepCheckpointFormat {
		return nil, fmt.Errorf("sweep: checkpoint %s: format %d, this version reads %d", path, c.Format, sweepCheckpointFormat)
	}
	if !resume {
		if !c.Complete {
			return nil, fmt.Errorf("sweep: %s holds an unfinished sweep: resume it or choose another folder", path)
		}
		return fresh, nil
	}
	if k, ok := settingsDiffer(c.Settings, want); ok {
		hj, _ := json.Marshal(c.Settings[k])
		wj, _ := json.Marshal(want[k])
		return nil, fmt.Errorf("sweep: resume %s: setting %q was %s, this sweep has %s", path, k, hj, wj)
	}
	if c.Runs == nil {
		c.Runs = map[string]sweepRunDone{}
	}
	c.Complete = false
	return &c, nil
}

// settingsDiffer returns a key whose values differ between two settings
// maps (as they read from JSON).
func settingsDiffer(have, want map[string]any) (string, bool) {
	for k, w := range want {
		if !jsonEqual(have[k], w) {
			return k, true
		}
	}
	for k := range have {
		if _, ok := want[k]; !ok {
			return k, true
		}
	}
	return "", false
}

// save writes the checkpoint atomically.
func (c *sweepCheckpoint) save(path string) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: checkpoint: %w", err)
	}
	if err := WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("sweep: checkpoint: %w", err)
	}
	return nil
}
