package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2/dialog"

	"github.com/npti-studio/npti/analysis"
)

// sessionFormat is the version of session.json.
const sessionFormat = 1

// Session is the state saved in a session file: enough to reopen the same
// model, data, selection and settings, with hashes to detect changed files.
type Session struct {
	Format    int               `json:"format"`
	Model     string            `json:"model,omitempty"`
	ModelHash string            `json:"model_hash,omitempty"`
	Stats     string            `json:"stats,omitempty"`
	Sets      string            `json:"sets,omitempty"`
	Hashes    map[string]string `json:"hashes,omitempty"` // file → sha256
	Aspect    string            `json:"aspect"`
	Rule      analysis.Rule     `json:"rule"`
	// Edits lists manual changes per aspect key: [layer, neuron, 1 add / 0 remove].
	Edits map[string][][3]int `json:"edits,omitempty"`
	// Custom holds the set algebra results per aspect key: [layer, neuron].
	Custom map[string][][2]int `json:"custom,omitempty"`
	// Overlay is the aspect overlaid on the heatmap ("" for none).
	Overlay string `json:"overlay,omitempty"`
	// Identify is the identification settings of the Identify tab.
	Identify *IdentifySettings `json:"identify,omitempty"`
	// Plan is the induction settings of the Induce tab.
	Plan struct {
		Gamma        float64 `json:"gamma"`
		MaskFraction float64 `json:"mask_fraction"`
		Scope        string  `json:"scope"`
		Seed         string  `json:"seed"`
		Chat         bool    `json:"chat"`
		Prompt       string  `json:"prompt"`
		MaxTokens    string  `json:"max_tokens,omitempty"`
		Temperature  string  `json:"temperature,omitempty"`
		RepPenalty   string  `json:"repetition_penalty,omitempty"`
	} `json:"plan"`
}

// IdentifySettings are the Identify tab's data and run settings.
type IdentifySettings struct {
	Data      string   `json:"data"`             // "builtin" or "folder"
	Folder    string   `json:"folder,omitempty"` // the PersonalityBench folder
	Traits    []string `json:"traits"`
	Mode      string   `json:"mode"`
	Lines     string   `json:"lines,omitempty"`
	Questions string   `json:"questions,omitempty"`
	MaxTokens string   `json:"max_new_tokens,omitempty"`
	Out       string   `json:"out,omitempty"`
}

// session captures the current state.
func (u *UI) session() Session {
	st := u.st
	s := Session{Format: sessionFormat, Stats: st.statsDir, Sets: st.setsDir, Aspect: st.aspect.Key(),
		Rule: st.rule, Edits: map[string][][3]int{}}
	if st.model != nil {
		s.Model = st.model.Path
		if r := u.engine.Runner(); r != nil {
			_, s.ModelHash = r.ModelInfo()
		}
	}
	for a, ed := range st.edits {
		for k, add := range ed {
			flag := 0
			if add {
				flag = 1
			}
			s.Edits[a.Key()] = append(s.Edits[a.Key()], [3]int{k[0], k[1], flag})
		}
	}
	for a, ns := range st.custom {
		if s.Custom == nil {
			s.Custom = map[string][][2]int{}
		}
		s.Custom[a.Key()] = [][2]int{}
		for _, n := range ns {
			s.Custom[a.Key()] = append(s.Custom[a.Key()], [2]int{n.Layer, n.Index})
		}
	}
	if o, ok := u.explore.pick.overlay(); ok {
		s.Overlay = o.Key()
	}
	id := u.identify
	s.Identify = &IdentifySettings{Data: "builtin", Folder: id.folder.Text, Traits: slices.Clone(id.traits.Selected),
		Mode: id.mode.Selected, Lines: id.lines.Text, Questions: id.questions.Text, MaxTokens: id.maxTokens.Text, Out: id.out.Text}
	if id.data.Selected == dataFolder {
		s.Identify.Data = "folder"
	}
	iv := u.induce
	s.Plan.Gamma, s.Plan.MaskFraction, s.Plan.Scope = iv.gamma.Value, iv.mask.Value, iv.scope.Selected
	s.Plan.Seed, s.Plan.Chat, s.Plan.Prompt = iv.seed.Text, iv.chat.Checked, iv.prompt.Text
	s.Plan.MaxTokens, s.Plan.Temperature, s.Plan.RepPenalty = iv.maxTokens.Text, iv.temp.Text, iv.repPen.Text
	return s
}

// hashDir records the sha256 of the json and safetensors files of dir.
func hashDir(dir string, into map[string]string) {
	if dir == "" {
		return
	}
	for _, pat := range []string{"*.json", "*.safetensors"} {
		files, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil {
				sum := sha256.Sum256(data)
				into[f] = hex.EncodeToString(sum[:])
			}
		}
	}
}

// changedFiles lists the files whose sha256 differs from the recorded
// one (or that can no longer be read), sorted.
func changedFiles(hashes map[string]string) []string {
	var out []string
	for f, want := range hashes {
		data, err := os.ReadFile(f)
		sum := sha256.Sum256(data)
		if err != nil || hex.EncodeToString(sum[:]) != want {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// saveSession writes the session file.
func (u *UI) saveSession(path string) error { return writeSession(path, u.session()) }

// writeSession records the sha256 of the session's data files and writes
// it atomically; it may run off the UI goroutine.
func writeSession(path string, s Session) error {
	s.Hashes = map[string]string{}
	for _, dir := range []string{s.Stats, s.Sets} {
		hashDir(dir, s.Hashes)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("session %s: %w", path, err)
	}
	if err := analysis.WriteFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// OpenSession reopens a session file: data first (in the background),
// then the selection and settings, then the model.
func (u *UI) OpenSession(path string) {
	data, err := os.ReadFile(path)
	var s Session
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err == nil && s.Format != sessionFormat {
		err = fmt.Errorf("format %d, want %d", s.Format, sessionFormat)
	}
	if err != nil {
		u.showError(fmt.Errorf("session %s: %w", path, err))
		return
	}
	var stats *analysis.StatsSet
	var sets analysis.Sets
	u.goWork(func(context.Context) error {
		var err error
		if s.Stats != "" {
			if stats, err = analysis.LoadStats(s.Stats); err != nil {
				return err
			}
		}
		if s.Sets != "" {
			sets, err = analysis.LoadSets(s.Sets)
		}
		return err
	}, func(err error) {
		if err != nil {
			u.showError(fmt.Errorf("session %s: %w", path, err))
			return
		}
		u.applySession(s, stats, sets)
		if changed := changedFiles(s.Hashes); len(changed) > 0 {
			msg := fmt.Sprintf("Session reopened, but %d data file(s) changed since it was saved (sha256 differs): %s",
				len(changed), strings.Join(changed, ", "))
			u.setStatus(msg)
			dialog.ShowInformation("Data changed", msg, u.win)
		}
		if s.Model != "" {
			u.start.loadThen(s.Model, func() { u.checkModelHash(s) })
		}
	})
}

// applySession sets the data, selection and settings of a session.
func (u *UI) applySession(s Session, stats *analysis.StatsSet, sets analysis.Sets) {
	st := u.st
	st.stats, st.statsDir, st.sets, st.setsDir = stats, s.Stats, sets, s.Sets
	st.reset()
	st.rule = s.Rule
	if a, err := analysis.ParseAspect(s.Aspect); err == nil {
		st.aspect = a
	}
	for key, list := range s.Custom {
		if a, err := analysis.ParseAspect(key); err == nil {
			ns := make([]analysis.Neuron, 0, len(list))
			for _, c := range list {
				ns = append(ns, st.record(a, c[0], c[1]))
			}
			st.custom[a] = ns
		}
	}
	for key, list := range s.Edits {
		a, err := analysis.ParseAspect(key)
		if err != nil {
			continue
		}
		for _, e := range list {
			st.edit(a, [][2]int{{e[0], e[1]}}, e[2] == 1)
		}
	}
	iv := u.induce
	iv.gamma.SetValue(s.Plan.Gamma)
	iv.mask.SetValue(s.Plan.MaskFraction)
	iv.scope.SetSelected(s.Plan.Scope)
	iv.seed.SetText(s.Plan.Seed)
	iv.chat.SetChecked(s.Plan.Chat)
	iv.prompt.SetText(s.Plan.Prompt)
	for _, f := range []struct {
		e *entry
		s string
	}{{iv.maxTokens, s.Plan.MaxTokens}, {iv.temp, s.Plan.Temperature}, {iv.repPen, s.Plan.RepPenalty}} {
		if f.s != "" {
			f.e.SetText(f.s)
		}
	}
	if id := s.Identify; id != nil {
		iv := u.identify
		iv.folder.SetText(id.Folder) // selects the folder as data when set
		if id.Data == "folder" {
			iv.data.SetSelected(dataFolder)
		} else {
			iv.data.SetSelected(dataBuiltin)
		}
		iv.traits.SetSelected(id.Traits)
		if id.Mode != "" {
			iv.mode.SetSelected(id.Mode)
		}
		iv.lines.SetText(id.Lines)
		for _, f := range []struct {
			e *entry
			s string
		}{{iv.questions, id.Questions}, {iv.maxTokens, id.MaxTokens}, {iv.out, id.Out}} {
			if f.s != "" {
				f.e.SetText(f.s)
			}
		}
	}
	u.explore.pick.showRule(st.rule)
	u.explore.pole.SetSelected(st.aspect.Pole.String())
	u.explore.dataChanged()
	ov := noOverlay
	if a, err := analysis.ParseAspect(s.Overlay); err == nil && s.Overlay != "" {
		ov = a.String()
	}
	u.explore.pick.overlayTo.SetSelected(ov)
	u.setStatus("Session reopened.")
}

// checkModelHash compares the reopened model's content hash with the one
// the session recorded (in the background: hashing reads the weights'
// headers) and warns when the model changed.
func (u *UI) checkModelHash(s Session) {
	r := u.engine.Runner()
	if s.ModelHash == "" || r == nil {
		return
	}
	var now string
	u.goWork(func(context.Context) error {
		_, now = r.ModelInfo()
		return nil
	}, func(error) {
		if now == "" || now == s.ModelHash {
			return
		}
		msg := fmt.Sprintf("The model %s changed since the session was saved (content hash %s, now %s): "+
			"the statistics and neuron sets may not match it.", s.Model, short(s.ModelHash), short(now))
		u.setStatus("Warning: " + msg)
		dialog.ShowInformation("Model changed", msg, u.win)
	})
}

// short abbreviates a hash for messages.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
