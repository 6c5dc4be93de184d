package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
	"gonum.org/v1/plot/vg"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// reportView runs the dose-response sweep and exports plots, statistics,
// generations and the session.
type reportView struct {
	u       *UI
	content fyne.CanvasObject

	format    *widget.RadioGroup
	dose      *plotView
	sweepB    *widget.Button
	cancelB   *widget.Button
	questions *entry
	gammas    *entry
	tokens    *entry
	baselines *widget.Check
	progress  *widget.ProgressBar
	sweepInfo *widget.Label
	empty     fyne.CanvasObject // placeholder shown until a sweep ran
	result    *analysis.SweepResult
	stop      context.CancelFunc
	done      chan struct{}

	// The running export (nil when none), its progress and Cancel.
	exportStop     context.CancelFunc
	exportB        []*widget.Button // disabled while an export runs
	exportProgress *widget.ProgressBar
	exportInfo     *widget.Label
	exportCancel   *widget.Button
	// exportGate, when set (by tests), holds the export's goroutine
	// until it is closed.
	exportGate chan struct{}
}

func newReportView(u *UI) *reportView {
	v := &reportView{u: u}
	v.format = widget.NewRadioGroup([]string{"png", "svg", "pdf"}, nil)
	v.format.Horizontal = true
	v.format.SetSelected("png")
	v.dose = newPlotView(v.renderDose)
	v.dose.onError = func(err error) { u.setStatus("Plot: " + err.Error()) }
	v.sweepB = widget.NewButton("Run dose-response sweep", v.onSweep)
	v.cancelB = widget.NewButton("Cancel", func() {
		if v.stop != nil {
			v.stop()
		}
	})
	v.cancelB.Disable()
	v.questions = numEntry("4", func() {})
	v.gammas = newEntry()
	v.gammas.SetText("0.6, 0.8, 1.0, 1.2, 1.4, 1.6")
	v.tokens = numEntry("60", func() {})
	v.baselines = widget.NewCheck("Prompt baselines (adjective, persona)", nil)
	v.progress = widget.NewProgressBar()
	v.sweepInfo = widget.NewLabel("")
	v.sweepInfo.Wrapping = fyne.TextWrapWord
	exportAll := widget.NewButton("Export all to folder…", v.onExportAll)
	exportAll.Importance = widget.HighImportance
	quick := widget.NewButton("Quick export (Ctrl+Shift+E)", v.onQuickExport)
	v.exportB = []*widget.Button{exportAll, quick}
	v.exportProgress = widget.NewProgressBar()
	v.exportProgress.Hide()
	v.exportInfo = widget.NewLabel("")
	v.exportInfo.Wrapping = fyne.TextWrapWord
	v.exportInfo.Hide()
	v.exportCancel = widget.NewButton("Cancel export", v.onCancelExport)
	v.exportCancel.Hide()
	left := container.NewVBox(
		widget.NewRichTextFromMarkdown("**Export** (plots in the chosen format)"), v.format, exportAll, quick,
		widget.NewLabel("Writes heatmap, per-layer chart, dose-response,\nstatistics.csv (every neuron), selection.csv,\ngenerations.jsonl, neuron sets and session.json."),
		v.exportProgress, v.exportInfo, v.exportCancel,
		widget.NewSeparator(),
		widget.NewRichTextFromMarkdown("**Dose-response** of the current aspect"),
		widget.NewForm(widget.NewFormItem("γ values", v.gammas),
			widget.NewFormItem("Questions", v.questions), widget.NewFormItem("Max tokens", v.tokens)),
		v.baselines,
		container.NewHBox(v.sweepB, v.cancelB), v.progress, v.sweepInfo,
	)
	v.empty = v.placeholder()
	v.dose.Hide() // until a sweep ran: the placeholder shows instead
	right := container.NewStack(v.dose, v.empty)
	split := container.NewHSplit(container.NewVScroll(left), right)
	split.SetOffset(0.25)
	v.content = split
	u.name(tabReport, "report.quickExport", quick)
	u.name(tabReport, "report.exportAll", exportAll)
	u.name(tabReport, "report.sweep", v.sweepB)
	return v
}

// placeholder explains the dose-response view before any sweep.
func (v *reportView) placeholder() fyne.CanvasObject {
	text := widget.NewRichTextFromMarkdown("## Dose-response\n\n" +
		"How strongly does inducing the current aspect change the answers, and what does it cost? " +
		"The sweep generates answers to a few questions (plain openings for models without a chat template) " +
		"without edits and at each γ, then plots the **trait score** P(pole) and the **fluency cost** " +
		"(NLL of the answers under the unsteered model, nats per token) against γ, with the unsteered " +
		"baseline and the *sweet spot*: the γ with the largest shift whose NLL rises by at most 1 nat.\n\n" +
		"Uses the current selection (Explore & pick) and the γ values, question count and token budget on the left.")
	text.Wrapping = fyne.TextWrapWord
	run := widget.NewButton("Run dose-response sweep", v.onSweep)
	run.Importance = widget.HighImportance
	v.u.name(tabReport, "report.sweepCTA", run)
	card := container.NewVBox(text, container.NewCenter(run))
	return container.NewPadded(container.NewBorder(nil, nil, nil, nil,
		container.NewCenter(container.NewGridWrap(fyne.NewSize(620, 360), card))))
}

// renderDose draws the sweep result (the placeholder covers it before).
func (v *reportView) renderDose(w, h int) (image.Image, error) {
	if v.result == nil {
		return blank(w, h), nil
	}
	p, err := figure.DoseResponse(v.result, figure.DoseOptions{})
	if err != nil {
		return nil, err
	}
	return figure.Image(p, w, h)
}

func (v *reportView) onExportAll() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.export(dir.Path(), []string{v.format.Selected})
	}, v.u.win).Show()
}

// plots returns the exportable plots by file stem.
func (v *reportView) plots() (map[string]figure.Figure, error) {
	st := v.u.st
	out := map[string]figure.Figure{}
	if st.hasData() {
		ex := v.u.explore
		if ex.fig == nil {
			if _, err := ex.renderHeat(1000, 560); err != nil {
				return nil, err
			}
		}
		out["heatmap"] = ex.fig
		layers, _ := st.shape()
		p, err := figure.LayerCounts(fmt.Sprintf("%s: selected neurons per layer", st.aspect), layers, 480, ex.layerSeries()...)
		if err != nil {
			return nil, err
		}
		out["layers"] = p
	}
	if v.result != nil {
		p, err := figure.DoseResponse(v.result, figure.DoseOptions{})
		if err != nil {
			return nil, err
		}
		out["dose_response"] = p
	}
	return out, nil
}

// exportStep writes one file (or the folder of neuron sets) of an export.
// Steps are prepared on the UI goroutine from a snapshot of the state and
// run off it; each writes its file atomically, so a cancelled or failed
// export leaves only complete files.
type exportStep struct {
	name  string
	write func() error
}

// exportSteps prepares the export into dir: every plot in each format
// ("png", "svg" or "pdf"), the statistics CSV, the generations, the
// neuron sets and the session.
func (v *reportView) exportSteps(dir string, formats []string) ([]exportStep, error) {
	plots, err := v.plots()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var steps []exportStep
	for _, format := range formats {
		for _, stem := range []string{"heatmap", "layers", "dose_response"} {
			p, ok := plots[stem]
			if !ok {
				continue
			}
			w, h := 10*vg.Inch, 5.6*vg.Inch
			if stem == "dose_response" {
				w, h = 10*vg.Inch, 7*vg.Inch
			}
			if stem == "layers" {
				w, h = 4*vg.Inch, 5*vg.Inch
			}
			path := filepath.Join(dir, stem+"."+format)
			steps = append(steps, exportStep{filepath.Base(path), func() error { return figure.Save(p, path, w, h) }})
		}
	}
	stats, err := v.statsWriter()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	steps = append(steps, exportStep{"statistics.csv", func() error { return stats(filepath.Join(dir, "statistics.csv")) }})
	selected, err := v.u.st.selections()
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	steps = append(steps, exportStep{"selection.csv", func() error { return writeSetsCSV(filepath.Join(dir, "selection.csv"), selected) }})
	history := slices.Clone(v.u.induce.history)
	steps = append(steps, exportStep{"generations.jsonl", func() error {
		return writeGenerations(filepath.Join(dir, "generations.jsonl"), history)
	}})
	if v.u.st.hasData() {
		steps = append(steps, exportStep{"neurons", func() error { return analysis.SaveSets(filepath.Join(dir, "neurons"), selected) }})
	}
	s := v.u.session()
	steps = append(steps, exportStep{"session.json", func() error { return writeSession(filepath.Join(dir, "session.json"), s) }})
	return steps, nil
}

// export writes the plots in the formats and the data into dir in the
// background, with a progress bar and Cancel; the status line tells the
// outcome.
func (v *reportView) export(dir string, formats []string) {
	if v.exportStop != nil {
		return
	}
	steps, err := v.exportSteps(dir, formats)
	if err != nil {
		v.u.showError(err)
		return
	}
	for _, b := range v.exportB {
		b.Disable()
	}
	v.exportProgress.SetValue(0)
	v.exportProgress.Show()
	v.exportInfo.SetText("Exporting to " + dir + " …")
	v.exportInfo.Show()
	v.exportCancel.Show()
	v.u.setStatus("Exporting to " + dir + " …")
	written := 0
	gate := v.exportGate
	v.exportStop = v.u.goWork(func(ctx context.Context) error {
		if gate != nil {
			<-gate
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for i, s := range steps {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.write(); err != nil {
				return fmt.Errorf("export %s: %w", s.name, err)
			}
			written = i + 1
			v.u.do(func() {
				v.exportProgress.SetValue(float64(i+1) / float64(len(steps)))
				v.exportInfo.SetText(fmt.Sprintf("Exporting: %s written (%d of %d).", s.name, i+1, len(steps)))
			})
		}
		return nil
	}, func(err error) {
		v.exportStop = nil
		for _, b := range v.exportB {
			b.Enable()
		}
		v.exportProgress.Hide()
		v.exportCancel.Hide()
		switch {
		case errors.Is(err, context.Canceled):
			msg := fmt.Sprintf("Export cancelled: %d of %d files written to %s (each complete).", written, len(steps), dir)
			v.exportInfo.SetText(msg)
			v.u.setStatus(msg)
		case err != nil:
			v.exportInfo.SetText("Export failed.")
			v.u.showError(err)
		default:
			msg := exportSummary(steps, formats, dir)
			v.exportInfo.SetText(msg)
			v.u.setStatus(msg)
		}
	})
}

// exportSummary describes a finished export for the status line.
func exportSummary(steps []exportStep, formats []string, dir string) string {
	var per []string
	plots := 0
	for _, f := range formats {
		n := 0
		for _, s := range steps {
			if strings.HasSuffix(s.name, "."+f) {
				n++
			}
		}
		plots += n
		per = append(per, fmt.Sprintf("%d (%s)", n, f))
	}
	if len(formats) == 1 {
		return fmt.Sprintf("Exported %d plots (%s), statistics, generations, neuron sets and the session to %s.", plots, formats[0], dir)
	}
	return fmt.Sprintf("Exported %d plot files: %s; statistics, generations, neuron sets and the session to %s.", plots, strings.Join(per, ", "), dir)
}

func (v *reportView) onCancelExport() {
	if v.exportStop != nil {
		v.exportStop()
	}
}

// statsWriter snapshots the data and returns the writer of
// statistics.csv: one row per neuron of every trait (p_high, p_low, diff
// and the q95 of both poles) from the statistics, or, with only neuron
// dict files open, one row per neuron those files hold.
func (v *reportView) statsWriter() (func(path string) error, error) {
	st := v.u.st
	var cs []*analysis.Contrast
	for _, t := range st.traits() {
		c, err := st.contrast(t)
		if err != nil {
			return nil, err
		}
		if c != nil {
			cs = append(cs, c)
		}
	}
	if len(cs) > 0 {
		return func(path string) error { return writeContrastCSV(path, cs) }, nil
	}
	sets := st.sets
	return func(path string) error { return writeSetsCSV(path, sets) }, nil
}

// writeContrastCSV writes the per-neuron statistics of every contrast.
func writeContrastCSV(path string, cs []*analysis.Contrast) error {
	num := func(w *bufio.Writer, x float64) {
		w.WriteByte(',')
		w.WriteString(strconv.FormatFloat(x, 'g', 6, 64))
	}
	return writeFile(path, func(w *bufio.Writer) error {
		w.WriteString("trait,layer,neuron,p_high,p_low,diff,q95_high,q95_low\n")
		for _, c := range cs {
			for l := 0; l < c.Layers; l++ {
				for i := 0; i < c.Neurons; i++ {
					fmt.Fprintf(w, "%s,%d,%d", c.Trait, l, i)
					num(w, c.PHigh[l][i])
					num(w, c.PLow[l][i])
					num(w, c.Diff[l][i])
					if c.Q95High != nil && c.Q95Low != nil {
						num(w, c.Q95High[l][i])
						num(w, c.Q95Low[l][i])
					} else {
						w.WriteString(",,")
					}
					w.WriteByte('\n')
				}
			}
		}
		return nil
	})
}

// writeSetsCSV writes one row per neuron of every aspect of sets.
func writeSetsCSV(path string, sets analysis.Sets) error {
	return writeFile(path, func(w *bufio.Writer) error {
		fmt.Fprintln(w, "aspect,layer,neuron,diff,p,q95")
		for _, a := range sets.Aspects() {
			for _, n := range sets[a] {
				fmt.Fprintf(w, "%s,%d,%d,%g,%g,%g\n", a.Key(), n.Layer, n.Index, n.Diff, n.P, n.Q95)
			}
		}
		return nil
	})
}

// writeGenerations writes the side-by-side generations as JSON Lines.
func writeGenerations(path string, history []Generation) error {
	return writeFile(path, func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		for _, g := range history {
			if err := enc.Encode(g); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFile writes path through fill, atomically.
func writeFile(path string, fill func(w *bufio.Writer) error) error {
	return analysis.WriteAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}
