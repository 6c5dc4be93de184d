package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"

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
	left := container.NewVBox(
		widget.NewRichTextFromMarkdown("**Export** (plots in the chosen format)"), v.format, exportAll, quick,
		widget.NewLabel("Writes heatmap, per-layer chart, dose-response,\nstatistics.csv, generations.jsonl,\nneuron sets and session.json."),
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
		if err := v.exportAll(dir.Path(), v.format.Selected); err != nil {
			v.u.showError(err)
		}
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

// exportAll writes every plot in format ("png", "svg" or "pdf"), the
// statistics CSV, the generations and the session into dir.
func (v *reportView) exportAll(dir, format string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	plots, err := v.plots()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for stem, p := range plots {
		w, h := 10*vg.Inch, 5.6*vg.Inch
		if stem == "dose_response" {
			w, h = 10*vg.Inch, 7*vg.Inch
		}
		if stem == "layers" {
			w, h = 4*vg.Inch, 5*vg.Inch
		}
		if err := figure.Save(p, filepath.Join(dir, stem+"."+format), w, h); err != nil {
			return err
		}
	}
	if err := v.writeStatsCSV(filepath.Join(dir, "statistics.csv")); err != nil {
		return err
	}
	if err := v.writeGenerations(filepath.Join(dir, "generations.jsonl")); err != nil {
		return err
	}
	if v.u.st.hasData() {
		if err := v.u.explore.pick.saveTo(filepath.Join(dir, "neurons")); err != nil {
			return err
		}
	}
	if err := v.u.saveSession(filepath.Join(dir, "session.json")); err != nil {
		return err
	}
	v.u.setStatus(fmt.Sprintf("Exported %d plots (%s), statistics, generations and the session to %s.", len(plots), format, dir))
	return nil
}

// writeStatsCSV writes one row per selected neuron of every aspect.
func (v *reportView) writeStatsCSV(path string) error {
	sets, err := v.u.st.selections()
	if err != nil {
		return err
	}
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
func (v *reportView) writeGenerations(path string) error {
	return writeFile(path, func(w *bufio.Writer) error {
		enc := json.NewEncoder(w)
		for _, g := range v.u.induce.history {
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
