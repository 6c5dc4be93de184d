package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	// Before Fyne's lang package logs a locale error under LANG=C.UTF-8.
	_ "github.com/npti-studio/npti/app/internal/quietlocale"
	"github.com/npti-studio/npti/inference"
	"github.com/npti-studio/npti/ui"
)

// guiOptions parses the flags of the desktop app.
func guiOptions(args []string, stderr io.Writer) (ui.Options, inference.Options, error) {
	fs := flag.NewFlagSet("npti", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o ui.Options
	fs.StringVar(&o.Model, "model", "", "model to open: HF folder, llama2.c checkpoint or cached repo id")
	fs.StringVar(&o.Stats, "stats", "", "statistics folder to open")
	fs.StringVar(&o.Neurons, "neurons", "", "folder of neuron dict files to open")
	fs.StringVar(&o.Bench, "bench", "", "PersonalityBench folder to identify on (default: the built-in probe set)")
	load := runtimeFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, *load, errUsage
	}
	if fs.NArg() > 0 {
		return o, *load, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := inference.CheckWeights(load.Weights); err != nil {
		return o, *load, fmt.Errorf("--%w", err)
	}
	o.DebugLayout = os.Getenv("NPTI_DEBUG_LAYOUT") == "1"
	return o, *load, nil
}

// runGUI opens the desktop app with the model, stats and neuron sets
// named by the flags.
func runGUI(ctx context.Context, args []string) error {
	o, load, err := guiOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	if err := checkDisplay(); err != nil {
		return err
	}
	a := fyneapp.NewWithID("io.github.npti_studio.npti")
	u := ui.New(a, newUIEngine(load), o)
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	u.Window().SetMaster()
	u.Window().Show()
	u.Open()
	a.Run()
	return nil
}

// errNoDisplay is the error of the desktop app without a display (GLFW
// would panic with a stack trace).
var errNoDisplay = errors.New("no display: set DISPLAY to open the desktop app, or use a subcommand (see npti help)")

// checkDisplay fails on X11/Wayland systems when neither DISPLAY nor
// WAYLAND_DISPLAY is set.
func checkDisplay() error {
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios", "js":
		return nil
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	return nil
}
