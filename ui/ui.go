// Package ui is the desktop interface of NPTI Studio, built with Fyne: a
// start page (models and neuron sets), identification, the contrast
// heatmap with neuron picking, side-by-side induction and export. Each view
// is a struct holding its widgets, with handlers as methods; slow work runs
// in goroutines with a context and a Cancel button, and comes back through
// one helper (UI.do). The package never imports GoMLX: models are reached
// through the Engine interface and the analysis package.
package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/resources"
)

// UI is the main window and the state shared by its views.
type UI struct {
	app    fyne.App
	win    fyne.Window
	engine Engine
	opts   Options
	st     *state

	tabs     *container.AppTabs
	status   *widget.Label
	start    *startView
	identify *identifyView
	explore  *exploreView
	induce   *induceView
	report   *reportView

	debugMu sync.Mutex
	named   map[string]namedObject
	// work counts background jobs until their done callback has run on
	// the UI goroutine; tests wait on it (see settle in flow_test.go).
	work sync.WaitGroup

	// Scorers of the Induce and Report tabs, and the data they were
	// trained on (see UI.scorers).
	scoreSet   analysis.TraitScorers
	scoreBench *analysis.Bench
	scoreDir   string // the data scoreSet was trained on
	benchDir   string // the data scoreBench holds
}

// namedObject is a widget shown by the layout dump, with the title of the
// tab it lives on ("" for widgets outside the tabs).
type namedObject struct {
	tab string
	obj fyne.CanvasObject
}

// New builds the window of NPTI Studio over an engine. Call Window().Show
// (or ShowAndRun), then Open to apply the start-up options.
func New(a fyne.App, eng Engine, opts Options) *UI {
	u := &UI{app: a, engine: eng, opts: opts, st: newState(), named: map[string]namedObject{}}
	u.win = a.NewWindow("NPTI Studio")
	u.win.SetIcon(fyne.NewStaticResource("icon.png", resources.Icon()))
	u.status = widget.NewLabel("Welcome: open a model or a neuron set to begin.")
	u.status.Truncation = fyne.TextTruncateEllipsis
	u.start = newStartView(u)
	u.identify = newIdentifyView(u)
	u.explore = newExploreView(u)
	u.induce = newInduceView(u)
	u.report = newReportView(u)
	u.tabs = container.NewAppTabs(
		container.NewTabItem(tabStart, u.start.content),
		container.NewTabItem(tabIdentify, u.identify.content),
		container.NewTabItem(tabExplore, u.explore.content),
		container.NewTabItem(tabInduce, u.induce.content),
		container.NewTabItem(tabReport, u.report.content),
	)
	u.tabs.OnSelected = func(*container.TabItem) { u.dumpLayout() }
	u.name("", "status", u.status)
	u.win.SetContent(container.NewBorder(nil, u.status, nil, nil, u.tabs))
	u.win.Resize(fyne.NewSize(1280, 800))
	u.addShortcuts()
	return u
}

// Window returns the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Open applies the start-up options: model, stats folder and neuron sets
// (each loads in the background).
func (u *UI) Open() {
	if u.opts.Bench != "" {
		u.identify.folder.SetText(u.opts.Bench) // selects the folder as data
	}
	if u.opts.Neurons != "" {
		u.explore.openSets(u.opts.Neurons)
	}
	if u.opts.Stats != "" {
		u.identify.openStats(u.opts.Stats)
	}
	if u.opts.Model != "" {
		u.start.load(u.opts.Model)
	}
	u.dumpLayout()
}

// do runs fn on the UI goroutine; every result of background work comes
// back through it.
func (u *UI) do(fn func()) { fyne.Do(fn) }

// runner returns the loaded model's runner, or shows why the action
// (named for the message) cannot start and returns nil.
func (u *UI) runner(action string) analysis.Runner {
	r := u.engine.Runner()
	if r == nil {
		u.showError(fmt.Errorf("%s: load a model first (Start tab)", action))
	}
	return r
}

// showError reports err in the one error dialog of the app (and the status
// line); nil is ignored.
func (u *UI) showError(err error) {
	if err == nil {
		return
	}
	u.setStatus("Error: " + err.Error())
	dialog.ShowError(err, u.win)
}

// setStatus shows a line in the status bar (and on stderr in debug mode).
func (u *UI) setStatus(s string) {
	u.status.SetText(s)
	u.debugf("status: %s", s)
}

// showTab selects the tab with the given title.
func (u *UI) showTab(title string) {
	for _, t := range u.tabs.Items {
		if t.Text == title {
			u.tabs.Select(t)
		}
	}
}

// goWork runs work in a goroutine with a cancellable context and returns
// its cancel function; done gets work's error on the UI goroutine.
func (u *UI) goWork(work func(ctx context.Context) error, done func(error)) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	u.work.Add(1)
	go func() {
		err := work(ctx)
		if err != nil && ctx.Err() != nil {
			err = ctx.Err() // cancelled, whatever the error says
		}
		u.do(func() {
			defer u.work.Done()
			done(err)
		})
	}()
	return cancel
}

// name registers a widget of a tab for the layout dump of debug mode.
func (u *UI) name(tab, n string, o fyne.CanvasObject) {
	u.debugMu.Lock()
	u.named[n] = namedObject{tab, o}
	u.debugMu.Unlock()
}

// debugf prints a line to stderr in debug mode.
func (u *UI) debugf(format string, args ...any) {
	if u.opts.DebugLayout {
		fmt.Fprintf(os.Stderr, "npti-debug "+format+"\n", args...)
	}
}

// dumpLayout prints the layout once the pending frame is drawn.
func (u *UI) dumpLayout() {
	if u.opts.DebugLayout {
		time.AfterFunc(400*time.Millisecond, func() { u.do(u.dumpNow) })
	}
}

// dumpNow prints the absolute position and size of every named, visible
// widget in window pixels, in debug mode: "widget NAME X Y W H".
func (u *UI) dumpNow() {
	scale := u.win.Canvas().Scale()
	drv := u.app.Driver()
	tab := ""
	if u.tabs != nil && u.tabs.Selected() != nil {
		tab = u.tabs.Selected().Text
	}
	u.debugMu.Lock()
	defer u.debugMu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "npti-debug tab %s\n", tab)
	for n, no := range u.named {
		o := no.obj
		if (no.tab != "" && no.tab != tab) || !o.Visible() {
			continue
		}
		p := drv.AbsolutePositionForObject(o)
		s := o.Size()
		fmt.Fprintf(&b, "npti-debug widget %s %d %d %d %d\n", n,
			int(p.X*scale), int(p.Y*scale), int(s.Width*scale), int(s.Height*scale))
	}
	fmt.Fprint(os.Stderr, b.String())
}

// Tab titles.
const (
	tabStart    = "Start"
	tabIdentify = "Identify"
	tabExplore  = "Explore & pick"
	tabInduce   = "Induce"
	tabReport   = "Report"
)
