package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/hook"
)

// runServe implements `npti serve`: an OpenAI-compatible chat server over
// one model, optionally steered by a server-wide plan and per request.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model, opts := modelFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback by default; there is no authentication)")
	name := fs.String("name", "", "model id reported by /v1/models (default: the model folder's name)")
	neurons := fs.String("neurons", "", "folder of neuron dict files, for --induce and per-request \"npti\" plans")
	induce := fs.String("induce", "", "server-wide plan: trait:pole[:gamma][,...] (needs --neurons)")
	gamma := fs.Float64("gamma", 1.4, "default induction intensity γ")
	maskFrac := fs.Float64("mask-fraction", 0.9, "fraction of the add set applied per step (NPTI 0.9)")
	scope := fs.String("scope", "generated", "positions edited: generated (NPTI) or all")
	policy := fs.String("policy", "skip", "conflict policy between traits: skip, add or clamp")
	seed := fs.Uint64("seed", 0, "seed of the server-wide plan's add mask")
	maxTokens := fs.Int("max-tokens", 1024, "cap on generated tokens per request")
	contextLen := fs.Int("context", 0, "prompt + generation limit in tokens (default: the model's max positions)")
	maxBody := fs.Int64("max-body", 1<<20, "request body limit in bytes")
	rep := fs.Float64("repetition-penalty", 1, "default repetition penalty (1 = off)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *model == "" {
		return errors.New("need --model")
	}
	// Settings every request would fail on, refused before the model loads.
	switch {
	case *maxTokens < 0:
		return fmt.Errorf("--max-tokens %d must be positive (0 = 1024)", *maxTokens)
	case *contextLen < 0:
		return fmt.Errorf("--context %d must be positive (0 = the model's max positions)", *contextLen)
	case *maxBody < 0:
		return fmt.Errorf("--max-body %d must be positive (0 = 1 MiB)", *maxBody)
	case !(*rep > 0 && *rep <= 10):
		return fmt.Errorf("--repetition-penalty %v must lie in (0, 10] (1 = off)", *rep)
	case !gammaOK(*gamma):
		return fmt.Errorf("--gamma %v must lie in [0, %g]", *gamma, float64(maxGamma))
	}
	plan, err := servePlanFromFlags(*neurons, *induce, *gamma, *maskFrac, *scope, *policy, *seed)
	if err != nil {
		return err
	}
	l, err := openModel(ctx, *model, *opts, stderr)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = filepath.Base(strings.TrimRight(l.dir, string(filepath.Separator)))
	}
	s, err := newServer(l, serveConfig{name: *name, plan: plan, maxTokens: *maxTokens, context: *contextLen,
		maxBody: *maxBody, repPen: *rep})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	if host, _, _ := net.SplitHostPort(*addr); !isLoopback(host) {
		fmt.Fprintf(stderr, "warning: %s is reachable beyond this machine and has no authentication\n", *addr)
	}
	fmt.Fprintf(stdout, "serving %s on http://%s/v1 (Ctrl-C stops)\n", *name, ln.Addr())
	s.down = ctx
	return serveHTTP(ctx, ln, s.handler())
}

// servePlanFromFlags reads the neuron sets and the server-wide items.
func servePlanFromFlags(dir, induce string, gamma, frac float64, scopeName, policyName string, seed uint64) (servePlan, error) {
	p := servePlan{gamma: gamma, maskFraction: frac, seed: seed}
	var err error
	if p.scope, err = hook.ParseScope(scopeName); err != nil || p.scope == hook.Prompt {
		return p, fmt.Errorf("--scope %q: want generated or all", scopeName)
	}
	if p.policy, err = analysis.ParsePolicy(policyName); err != nil {
		return p, err
	}
	if !(frac >= 0 && frac <= 1) {
		return p, fmt.Errorf("--mask-fraction %v outside [0, 1]", frac)
	}
	if dir != "" {
		if p.sets, err = analysis.LoadSets(dir); err != nil {
			return p, err
		}
	}
	if induce != "" {
		if dir == "" {
			return p, errors.New("--induce needs --neurons")
		}
		if p.items, err = analysis.ParseInductions(induce, gamma); err != nil {
			return p, fmt.Errorf("--induce: %w", err)
		}
		if err := checkGammas(p.items); err != nil {
			return p, fmt.Errorf("--induce: %w", err)
		}
	}
	return p, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
