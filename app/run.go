// Package app wires NPTI Studio together: flags, environment, backend
// choice and preferences; it builds the services and the window, and it is
// the command-line entry of the same binary (no subcommand opens the GUI,
// a subcommand runs headless).
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// Version is the tool version recorded in metadata files.
const Version = "0.1.0"

// command is one headless subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands of the npti binary.
func commands() map[string]command {
	return map[string]command{
		"version":  {"print the version", runVersion},
		"generate": {"generate text, optionally inducing a trait pole", runGenerate},
		"probe":    {"teacher-forced activation statistics of one sequence", runProbe},
		"tokenize": {"token ids of a text", runTokenize},
		"template": {"render a chat template", runTemplate},
		"bench":    {"measure prefill-with-capture and decode speed", runBench},
		"neurons":  {"select neuron sets from statistics, or re-export dict files", runNeurons},
		"plan":     {"combine trait inductions and count conflicts", runPlan},
		"identify": {"activation statistics of each trait pole (NPTI identification)", runIdentify},
		"merge":    {"add the statistics of several identification runs or shards", runMerge},
		"induce":   {"answer questions unsteered, induced and with prompt baselines", runInduce},
		"score":    {"score answers offline: P(high pole), NLL and distinct-n", runScore},
		"sweep":    {"trait score and fluency against γ, with baselines and variants", runSweep},
		"serve":    {"serve a model over an OpenAI-compatible API, optionally steered", runServe},
		"judge":    {"rate answers for trait and fluency with an LLM judge", runJudge},
	}
}

// Run is the program entry: it dispatches to a subcommand or opens the GUI,
// and exits with a non-zero status on error.
func Run() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// budgetHeap bounds the Go heap once a model is loaded, unless GOMEMLIMIT
// is set. The weights live outside the heap (the patched Go backend maps
// them), so the collector's default target (collect when the heap has
// doubled) would leave transient activations and statistics unbounded,
// while a low GOGC would collect on every decode step. A soft limit of 40%
// of the weights (at least 192 MiB) keeps the process near 1.5× the model.
func budgetHeap(weightBytes int64) {
	if os.Getenv("GOMEMLIMIT") != "" || runtime.GOOS != "linux" { // elsewhere the weights are on the heap
		return
	}
	debug.SetMemoryLimit(max(192<<20, weightBytes*2/5))
}

// Main runs the program with args (without the program name) and returns
// the exit status. Tests call it directly.
func Main(args []string, stdout, stderr io.Writer) int {
	// Ctrl-C and kill's SIGTERM both cancel: long runs save a checkpoint.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			usage(stdout)
			return 0
		}
		if err := runGUI(ctx, args); err != nil {
			fmt.Fprintln(stderr, "npti:", err)
			return 1
		}
		return 0
	}
	name := args[0]
	if name == "help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "npti: unknown command %q\n", name)
		usage(stderr)
		return 2
	}
	// Run the command off the main goroutine: Fyne's GLFW driver locks it
	// to the main OS thread at init, and model work on a locked thread
	// pays an OS thread switch at every hand-off to GoMLX's workers
	// (measured: decode 3–4× slower).
	errc := make(chan error, 1)
	go func() { errc <- cmd.run(ctx, args[1:], stdout, stderr) }()
	if err := <-errc; err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintf(stderr, "npti %s: %v\n", name, err)
		return 1
	}
	return 0
}

// errUsage marks a flag error already reported by the flag package.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "NPTI Studio: find and steer the personality neurons of a local LLM.")
	fmt.Fprintln(w, "\nUsage:\n  npti [--model M] [--stats DIR] [--neurons DIR]   open the desktop app")
	fmt.Fprintln(w, "  npti COMMAND [flags]                               run headless")
	fmt.Fprintln(w, "\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'npti COMMAND -h' for the flags of a command.")
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	_, err := fmt.Fprintln(stdout, "npti", Version)
	return err
}
