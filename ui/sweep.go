package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/npti-studio/npti/analysis"
)

// onSweep sweeps γ for the current aspect over a few questions (plain
// openings for models without a chat template) and draws the result.
func (v *reportView) onSweep() {
	r := v.u.runner("sweep")
	if r == nil {
		return
	}
	if v.stop != nil {
		return
	}
	st := v.u.st
	sets, err := st.selections()
	if err != nil {
		v.u.showError(err)
		return
	}
	scorers, b, err := v.u.scorers()
	if err != nil {
		v.u.showError(err)
		return
	}
	req, err := v.request(scorers, b, sets)
	if err != nil {
		v.u.showError(err)
		return
	}
	v.sweepB.Disable()
	v.cancelB.Enable()
	v.progress.SetValue(0)
	v.sweepInfo.SetText("")
	v.u.setStatus(fmt.Sprintf("Sweeping γ %v for %s over %d questions …", req.Gammas, st.aspect, len(req.Induce.Questions)))
	v.done = make(chan struct{})
	done := v.done
	thr := newThrottle(100)
	var res *analysis.SweepResult
	v.stop = v.u.goWork(func(ctx context.Context) error {
		var err error
		res, err = analysis.Sweep(ctx, r, req, func(p analysis.Progress) {
			if thr.ok() || p.Remaining() == 0 {
				v.u.do(func() {
					v.progress.SetValue(p.Fraction())
					v.sweepInfo.SetText(fmt.Sprintf("%d of %d runs · %.0f tokens/s", p.Done, p.Total, p.TokensPerSecond()))
				})
			}
		})
		return err
	}, func(err error) {
		defer close(done)
		v.stop = nil
		v.sweepB.Enable()
		v.cancelB.Disable()
		if errors.Is(err, context.Canceled) {
			v.progress.SetValue(0)
			v.sweepInfo.SetText("Cancelled.")
			v.u.setStatus("Dose-response sweep cancelled.")
			return
		}
		if err != nil {
			v.progress.SetValue(0)
			v.sweepInfo.SetText("")
			v.u.showError(fmt.Errorf("sweep: %w", err))
			return
		}
		v.progress.SetValue(1)
		v.result = res
		v.empty.Hide()
		v.dose.Show()
		v.dose.redraw()
		v.sweepInfo.SetText(sweepSummary(res))
		v.u.setStatus("Dose-response sweep done: " + sweepSummary(res))
		v.u.dumpLayout()
	})
}

// request builds the sweep of the current aspect from the controls.
func (v *reportView) request(sc analysis.TraitScorers, b *analysis.Bench, sets analysis.Sets) (analysis.SweepRequest, error) {
	st := v.u.st
	gammas, err := parseGammas(v.gammas.Text)
	if err != nil {
		return analysis.SweepRequest{}, err
	}
	n, err := strconv.Atoi(v.questions.Text)
	if err != nil || n <= 0 {
		return analysis.SweepRequest{}, fmt.Errorf("sweep: questions %q is not a positive number", v.questions.Text)
	}
	tokens, err := strconv.Atoi(v.tokens.Text)
	if err != nil || tokens <= 0 {
		return analysis.SweepRequest{}, fmt.Errorf("sweep: max tokens %q is not a positive number", v.tokens.Text)
	}
	plain := st.model != nil && !st.model.HasChat
	qs := b.Questions[st.aspect.Trait]
	if plain {
		qs = plainOpenings
	}
	if len(qs) == 0 {
		return analysis.SweepRequest{}, fmt.Errorf("sweep: the data has no questions for %s", st.aspect.Trait)
	}
	chat := analysis.ChatOff
	if v.u.induce.chat.Checked {
		chat = analysis.ChatOn
	}
	plan := analysis.DefaultPlan(analysis.Induction{Trait: st.aspect.Trait, Pole: st.aspect.Pole, Gamma: 1})
	plan.MaskFraction = v.u.induce.mask.Value
	plan.Seed, _ = strconv.ParseUint(v.u.induce.seed.Text, 10, 64)
	return analysis.SweepRequest{Scorers: sc, Gammas: gammas, Baselines: v.baselines.Checked, Induce: analysis.InduceRequest{
		Questions: qs[:min(n, len(qs))], Plain: plain, Chat: chat, Sets: sets, MaxNewTokens: tokens,
		Descriptions: b.Descriptions, Plan: plan,
	}}, nil
}

// parseGammas parses a comma- or space-separated list of γ values ≥ 0.
func parseGammas(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		g, err := strconv.ParseFloat(f, 64)
		if err != nil || g < 0 || g > 10 {
			return nil, fmt.Errorf("sweep: γ value %q is not a number in [0, 10]", f)
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, errors.New("sweep: give at least one γ value")
	}
	return out, nil
}

// sweepSummary describes a sweep in one line: baseline, best point and
// sweet spot.
func sweepSummary(res *analysis.SweepResult) string {
	best := res.Points[0]
	for _, p := range res.Points {
		if p.Score > best.Score {
			best = p
		}
	}
	line := fmt.Sprintf("P(%s) unsteered %.2f (NLL %.2f) → %.2f at γ %.2g (NLL %.2f)",
		res.Pole, res.Unsteered.Score, res.Unsteered.NLL, best.Score, best.Gamma, best.NLL)
	for _, s := range res.SweetSpots {
		if s.Found {
			line += fmt.Sprintf("; sweet spot γ %.2g", s.Gamma)
		} else {
			line += fmt.Sprintf("; no γ keeps %s within the fluency budget (NLL +%.2g)", s.Variant, res.MaxFluencyCost)
		}
	}
	return line + "."
}

// onQuickExport exports everything, without a dialog, into a new folder
// under ~/npti-studio/exports (Ctrl+Shift+E), the plots in PNG, SVG and PDF.
func (v *reportView) onQuickExport() {
	home, err := os.UserHomeDir()
	if err != nil {
		v.u.showError(fmt.Errorf("export: %w", err))
		return
	}
	name := "session"
	if m := v.u.st.model; m != nil {
		name = sanitize(m.Name)
	}
	dir := filepath.Join(home, "npti-studio", "exports", name+"-"+time.Now().Format("20060102-150405"))
	v.export(dir, []string{"svg", "pdf", "png"})
}
