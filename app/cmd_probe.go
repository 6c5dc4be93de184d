package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/inference/hook"
)

// runProbe implements `npti probe`: teacher-forced activation statistics
// over all positions of one sequence.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model, opts := modelFlags(fs)
	promptIDs := fs.String("prompt-ids", "", "token ids, used verbatim")
	prompt := fs.String("prompt", "", "text (tokenized with the model's special tokens)")
	asJSON := fs.Bool("json", false, `print {"tokens", "p_active", "q95"}`)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *model == "" || (*prompt == "") == (*promptIDs == "") {
		return errors.New("need --model and exactly one of --prompt-ids or --prompt")
	}
	l, err := openModel(ctx, *model, *opts, stderr)
	if err != nil {
		return err
	}
	var ids []int
	if *promptIDs != "" {
		ids, err = parseIDs(*promptIDs)
	} else {
		ids, err = l.encodePrompt(*prompt, false)
	}
	if err != nil {
		return err
	}
	m := l.model
	st := hook.NewStats(m.Layers(), m.Neurons(), true)
	if _, err := m.Forward(ctx, [][]int{ids}, inference.ForwardOptions{Capture: st}); err != nil {
		return err
	}
	p, q := st.PActive(), st.Q95()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{"tokens": st.Tokens, "p_active": p, "q95": q})
	}
	fmt.Fprintf(stdout, "%d tokens, %d layers x %d neurons\n", st.Tokens, m.Layers(), m.Neurons())
	for l := range p {
		var mean float64
		for _, v := range p[l] {
			mean += v
		}
		fmt.Fprintf(stdout, "layer %2d: mean p_active %.4f\n", l, mean/float64(len(p[l])))
	}
	return nil
}
