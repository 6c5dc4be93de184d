package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/resources"
)

// Data sources of identification.
const (
	dataBuiltin = "Built-in probe set"
	dataFolder  = "PersonalityBench folder"
)

// identifyView runs identification (analysis.Identify) with progress,
// Cancel and resume, or opens an existing stats folder.
type identifyView struct {
	u       *UI
	content fyne.CanvasObject

	data      *widget.RadioGroup
	folder    *entry
	traits    *widget.CheckGroup
	mode      *widget.Select
	questions *entry
	lines     *entry
	maxTokens *entry
	out       *entry
	resume    *widget.Check
	run       *widget.Button
	cancelB   *widget.Button
	progress  *widget.ProgressBar
	info      *widget.Label
	stop      context.CancelFunc
	done      chan struct{} // closed when a run ends (for tests)
}

func newIdentifyView(u *UI) *identifyView {
	v := &identifyView{u: u}
	v.data = widget.NewRadioGroup([]string{dataBuiltin, dataFolder}, nil)
	v.data.SetSelected(dataBuiltin)
	v.data.OnChanged = func(string) {
		if u.induce != nil {
			u.induce.fillQuestions()
		}
	}
	v.folder = newEntry()
	v.folder.SetPlaceHolder("folder with description.json and test/<Trait>.json")
	v.folder.OnChanged = func(s string) {
		if s != "" {
			v.data.SetSelected(dataFolder)
		}
		// Typing a path: the questions follow once it names a data folder
		// (not a load and a scorer training per keystroke on a prefix).
		if _, err := os.Stat(filepath.Join(s, "description.json")); u.induce != nil && (s == "" || err == nil) {
			u.induce.fillQuestions()
		}
	}
	var names []string
	for _, t := range analysis.Traits() {
		names = append(names, string(t))
	}
	v.traits = widget.NewCheckGroup(names, nil)
	v.traits.Horizontal = true
	v.traits.SetSelected(names)
	v.mode = widget.NewSelect([]string{analysis.IdentifyNPTI, analysis.IdentifyPrompt, analysis.IdentifyTeacher}, nil)
	v.mode.SetSelected(analysis.IdentifyTeacher)
	v.questions = numEntry("0", func() {})
	v.lines = newEntry()
	v.lines.SetPlaceHolder("all (or e.g. 0-69)")
	v.maxTokens = numEntry("200", func() {})
	v.out = newEntry()
	v.resume = widget.NewCheck("Resume a run found in the output folder", nil)
	v.resume.SetChecked(true)
	v.run = widget.NewButton("Run identification", v.onRun)
	v.run.Importance = widget.HighImportance
	v.cancelB = widget.NewButton("Cancel", v.onCancel)
	v.cancelB.Disable()
	v.progress = widget.NewProgressBar()
	v.info = widget.NewLabel("Load a model to identify its personality neurons, or open an existing stats folder.")
	v.info.Wrapping = fyne.TextWrapWord
	browse := widget.NewButton("Choose…", v.onBrowse)
	openStats := widget.NewButton("Open statistics folder…", v.onOpenStats)
	modeHelp := widget.NewLabel("npti: generate answers, count generated tokens (official, slow) · prompt: teacher-force the prompt · teacher: teacher-force each description (fast)")
	modeHelp.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Data", container.NewVBox(v.data, container.NewBorder(nil, nil, nil, browse, v.folder))),
		widget.NewFormItem("Traits", v.traits),
		widget.NewFormItem("Mode", container.NewVBox(v.mode, modeHelp)),
		widget.NewFormItem("Description lines", v.lines),
		widget.NewFormItem("Questions per trait (0 = all)", v.questions),
		widget.NewFormItem("Max new tokens (npti)", v.maxTokens),
		widget.NewFormItem("Output folder", v.out),
		widget.NewFormItem("", v.resume),
	)
	v.content = container.NewPadded(container.NewVBox(form,
		container.NewHBox(v.run, v.cancelB, openStats), v.progress, v.info))
	u.name(tabIdentify, "identify.run", v.run)
	u.name(tabIdentify, "identify.cancel", v.cancelB)
	u.name(tabIdentify, "identify.lines", v.lines)
	u.name(tabIdentify, "identify.folder", v.folder)
	return v
}

// modelChanged picks defaults for a new model: the official mode for chat
// models, the fast teacher-forced mode otherwise, and an output folder.
func (v *identifyView) modelChanged() {
	m := v.u.st.model
	if m == nil {
		return
	}
	if m.HasChat {
		v.mode.SetSelected(analysis.IdentifyNPTI)
	} else {
		v.mode.SetSelected(analysis.IdentifyTeacher)
	}
	home, _ := os.UserHomeDir()
	v.out.SetText(filepath.Join(home, "npti-studio", "stats", sanitize(m.Name)+"-"+v.mode.Selected))
	v.info.SetText("Ready: press Run identification (Ctrl+R).")
}

// sanitize makes a name safe as a folder name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// request builds the identification request from the controls.
func (v *identifyView) request() (analysis.IdentifyRequest, error) {
	req := analysis.IdentifyRequest{Mode: v.mode.Selected, Out: v.out.Text, Resume: v.resume.Checked}
	var err error
	if req.Bench, req.DataSource, err = v.bench(); err != nil {
		return req, err
	}
	if req.Lines, err = parseLines(v.lines.Text); err != nil {
		return req, err
	}
	req.Questions, _ = strconv.Atoi(v.questions.Text)
	req.MaxNewTokens, _ = strconv.Atoi(v.maxTokens.Text)
	for _, name := range v.traits.Selected {
		t, err := analysis.ParseTrait(name)
		if err != nil {
			return req, err
		}
		req.Aspects = append(req.Aspects, analysis.Aspect{Trait: t, Pole: analysis.High}, analysis.Aspect{Trait: t, Pole: analysis.Low})
	}
	if len(req.Aspects) == 0 {
		return req, fmt.Errorf("identify: choose at least one trait")
	}
	return req, nil
}

func (v *identifyView) onRun() {
	r := v.u.runner("identify")
	if r == nil {
		return
	}
	if v.stop != nil {
		return
	}
	req, err := v.request()
	if err != nil {
		v.u.showError(err)
		return
	}
	v.run.Disable()
	v.cancelB.Enable()
	v.progress.SetValue(0)
	v.done = make(chan struct{})
	done := v.done
	v.u.setStatus(fmt.Sprintf("Identifying (%s mode) …", req.Mode))
	thr := newThrottle(100)
	var set *analysis.StatsSet
	v.stop = v.u.goWork(func(ctx context.Context) error {
		var err error
		set, err = analysis.Identify(ctx, r, req, func(p analysis.Progress) {
			if thr.ok() || p.Remaining() == 0 {
				v.u.do(func() { v.showProgress(p) })
			}
		})
		return err
	}, func(err error) {
		v.stop = nil
		v.run.Enable()
		v.cancelB.Disable()
		defer close(done)
		if errors.Is(err, analysis.ErrInterrupted) {
			v.info.SetText("Stopped; the checkpoint is saved in " + req.Out + ": Run again to resume.")
			v.u.setStatus("Identification cancelled (resumable).")
			return
		}
		if err != nil {
			v.u.showError(err)
			return
		}
		v.progress.SetValue(1)
		v.setStats(set, req.Out)
		v.u.setStatus(fmt.Sprintf("Identification done: statistics saved to %s.", req.Out))
		v.u.showTab(tabExplore)
		v.u.dumpLayout()
	})
}

// showProgress shows a progress report.
func (v *identifyView) showProgress(p analysis.Progress) {
	v.progress.SetValue(p.Fraction())
	eta := "…"
	if d := p.ETA(); d >= 0 {
		eta = analysis.FormatETA(d)
	}
	v.info.SetText(fmt.Sprintf("%s: %d of %d items · %.1f items/min · %.0f tokens/s · ETA %s",
		p.Aspect, p.Skipped+p.Done, p.Total, p.Rate(), p.TokensPerSecond(), eta))
	v.u.debugf("progress %s", v.info.Text)
}

func (v *identifyView) onCancel() {
	if v.stop != nil {
		v.stop()
	}
}

func (v *identifyView) onBrowse() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.folder.SetText(dir.Path())
		v.data.SetSelected(dataFolder)
	}, v.u.win).Show()
}

func (v *identifyView) onOpenStats() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.openStats(dir.Path())
	}, v.u.win).Show()
}

// openStats loads a stats folder in the background.
func (v *identifyView) openStats(dir string) {
	v.u.setStatus("Opening statistics " + dir + " …")
	var set *analysis.StatsSet
	v.u.goWork(func(context.Context) error {
		var err error
		set, err = analysis.LoadStats(dir)
		return err
	}, func(err error) {
		if err != nil {
			v.u.showError(err)
			return
		}
		v.setStats(set, dir)
		v.u.setStatus(fmt.Sprintf("Opened statistics of %d poles from %s.", len(set.Poles), dir))
		v.u.showTab(tabExplore)
		v.u.dumpLayout()
	})
}

// setStats makes a stats set the current data.
func (v *identifyView) setStats(set *analysis.StatsSet, dir string) {
	st := v.u.st
	st.stats, st.statsDir = set, dir
	st.reset()
	v.u.explore.dataChanged()
}

// bench loads the data chosen: the PersonalityBench folder or the
// built-in probe set, with its data source name.
func (v *identifyView) bench() (*analysis.Bench, string, error) {
	if v.data.Selected == dataFolder {
		b, err := analysis.LoadBenchDir(v.folder.Text)
		return b, "personalitybench:" + v.folder.Text, err
	}
	b, err := analysis.LoadBench(resources.Probes(), ".")
	return b, "builtin", err
}

// parseLines parses "" (all lines) or an inclusive range "lo-hi" of
// description lines into IdentifyRequest.Lines.
func parseLines(s string) ([2]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return [2]int{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 0 || hi < lo {
		return [2]int{}, fmt.Errorf("identify: description lines %q: want lo-hi, e.g. 0-69", s)
	}
	return [2]int{lo, hi + 1}, nil
}
