package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ropeJSON is rope_scaling (or transformers v5 rope_parameters).
type ropeJSON struct {
	Type                          string   `json:"type"`
	RopeType                      string   `json:"rope_type"`
	Factor                        *float64 `json:"factor"`
	LowFreqFactor                 *float64 `json:"low_freq_factor"`
	HighFreqFactor                *float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int     `json:"original_max_position_embeddings"`
	RopeTheta                     *float64 `json:"rope_theta"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || string(m) == "null"
}

// parseRope reads rope_scaling, or rope_parameters (which may also carry
// rope_theta, stored into *theta). It returns nil for default RoPE.
func parseRope(r *rawConfig, theta *float64) (*RopeScaling, error) {
	msg, key := r.RopeScaling, "rope_scaling"
	if isNull(msg) {
		msg, key = r.RopeParameters, "rope_parameters"
	}
	if isNull(msg) {
		return nil, nil
	}
	var j ropeJSON
	if err := json.Unmarshal(msg, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if j.RopeTheta != nil && r.RopeTheta == nil {
		*theta = *j.RopeTheta
	}
	typ := firstNonEmpty(j.RopeType, j.Type)
	switch typ {
	case "", "default":
		return nil, nil
	case "linear":
		if j.Factor == nil || !(*j.Factor > 0) {
			return nil, fmt.Errorf("%s: linear scaling needs a positive factor", key)
		}
		return &RopeScaling{Type: typ, Factor: *j.Factor}, nil
	case "llama3":
		if j.Factor == nil || j.LowFreqFactor == nil || j.HighFreqFactor == nil || j.OriginalMaxPositionEmbeddings == nil {
			return nil, fmt.Errorf("%s: llama3 scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings", key)
		}
		s := &RopeScaling{Type: typ, Factor: *j.Factor, LowFreqFactor: *j.LowFreqFactor,
			HighFreqFactor: *j.HighFreqFactor, OriginalMaxPositionEmbeddings: *j.OriginalMaxPositionEmbeddings}
		if !(s.Factor > 0) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPositionEmbeddings <= 0 {
			return nil, fmt.Errorf("%s: invalid llama3 parameters %+v", key, *s)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s: rope type %q is not supported (only default, linear, llama3)", key, typ)
}

// parseBOS reads bos_token_id: an int, null (-1), or absent (def).
func parseBOS(m json.RawMessage, def int) (int, error) {
	if len(bytes.TrimSpace(m)) == 0 {
		return def, nil
	}
	if isNull(m) {
		return -1, nil
	}
	var id int
	if err := json.Unmarshal(m, &id); err != nil {
		return 0, fmt.Errorf("bos_token_id: %w", err)
	}
	return id, nil
}

// ParseEOS reads eos_token_id (config.json, generation_config.json): an int, a list of ints, null, or absent.
func ParseEOS(m json.RawMessage, def int) ([]int, error) {
	if len(bytes.TrimSpace(m)) == 0 {
		if def < 0 {
			return nil, nil
		}
		return []int{def}, nil
	}
	if isNull(m) {
		return nil, nil
	}
	var id int
	if err := json.Unmarshal(m, &id); err == nil {
		return []int{id}, nil
	}
	var ids []int
	if err := json.Unmarshal(m, &ids); err != nil {
		return nil, fmt.Errorf("eos_token_id: want an int or a list of ints: %w", err)
	}
	return ids, nil
}

// maxDim bounds every size so that products of a few stay far from
// overflow and nonsense configs are rejected early.
const maxDim = 1 << 24

// maxLayers bounds the layer count (the largest open models have ~130).
const maxLayers = 4096

// Validate checks that the sizes are positive and consistent.
func (c *Config) Validate() error {
	for _, f := range []struct {
		v    int
		name string
	}{{c.HiddenSize, "hidden_size"}, {c.IntermediateSize, "intermediate_size"}, {c.NumLayers, "num_hidden_layers"},
		{c.NumHeads, "num_attention_heads"}, {c.NumKVHeads, "num_key_value_heads"}, {c.HeadDim, "head_dim"},
		{c.VocabSize, "vocab_size"}, {c.MaxPositions, "max_position_embeddings"}} {
		if f.v <= 0 || f.v > maxDim {
			return fmt.Errorf("%s = %d, want 1..%d", f.name, f.v, maxDim)
		}
	}
	if c.NumLayers > maxLayers {
		return fmt.Errorf("num_hidden_layers = %d, want at most %d", c.NumLayers, maxLayers)
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d not divisible by num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d must be even for RoPE", c.HeadDim)
	}
	if !(c.RMSNormEps > 0) || !(c.RopeTheta > 0) {
		return fmt.Errorf("rms_norm_eps %g and rope_theta %g must be positive", c.RMSNormEps, c.RopeTheta)
	}
	if c.BOSTokenID < -1 || c.BOSTokenID >= c.VocabSize {
		return fmt.Errorf("bos_token_id %d outside vocabulary of %d", c.BOSTokenID, c.VocabSize)
	}
	for _, id := range c.EOSTokenIDs {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("eos_token_id %d outside vocabulary of %d", id, c.VocabSize)
		}
	}
	if c.SlidingWindow < 0 {
		return fmt.Errorf("sliding_window %d is negative", c.SlidingWindow)
	}
	return nil
}
