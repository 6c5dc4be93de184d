package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// prefRecent is the preference key of the recent models list.
const prefRecent = "recent_models"

// startView is the first page: the model card and every way to get a
// model (HF cache, folder, download, recent) or to explore published
// neuron sets without one.
type startView struct {
	u       *UI
	content fyne.CanvasObject

	card     *widget.Label
	left     *container.Scroll // the column holding the card
	cached   *fyne.Container
	recent   *fyne.Container
	progress *widget.ProgressBar
	dlLabel  *widget.Label
	cancel   *widget.Button
	stop     context.CancelFunc
	repoID   *entry // a repository to download ("org/name")

	// The model load in progress (nil when none), its bar and Cancel.
	loadStop   context.CancelFunc
	loadBar    *widget.ProgressBarInfinite
	loadCancel *widget.Button
	loadDone   chan struct{} // closed when a load ends (for tests)
}

func newStartView(u *UI) *startView {
	v := &startView{u: u}
	v.card = widget.NewLabel("No model loaded. Pick one below, or open neuron sets to explore without a model.")
	v.card.Wrapping = fyne.TextWrapWord
	v.cached = container.NewVBox()
	v.recent = container.NewVBox()
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.dlLabel = widget.NewLabel("")
	v.cancel = widget.NewButton("Cancel", v.onCancel)
	v.cancel.Hide()
	openFolder := widget.NewButton("Open model folder…", v.onOpenFolder)
	openFile := widget.NewButton("Open llama2.c checkpoint…", v.onOpenFile)
	openSets := widget.NewButton("Open neuron sets (dict files)…", v.onOpenSets)
	openStats := widget.NewButton("Open statistics folder…", func() { u.identify.onOpenStats() })
	openSession := widget.NewButton("Open session…", func() { u.onOpenSession() })
	help := widget.NewButton("Keyboard shortcuts (F1)", func() { u.showHelp() })
	downloads := container.NewVBox()
	for _, id := range Suggested {
		downloads.Add(widget.NewButton("Download "+id, func() { v.download(id) }))
	}
	v.repoID = newEntry()
	v.repoID.SetPlaceHolder("or any repo id, e.g. Qwen/Qwen2.5-1.5B-Instruct")
	v.repoID.OnSubmitted = func(string) { v.onDownloadRepo() }
	downloads.Add(container.NewBorder(nil, nil, nil, widget.NewButton("Download", v.onDownloadRepo), v.repoID))
	v.loadBar = widget.NewProgressBarInfinite()
	v.loadBar.Stop()
	v.loadBar.Hide()
	v.loadCancel = widget.NewButton("Cancel loading", v.onCancelLoad)
	v.loadCancel.Hide()
	left := container.NewVBox(
		widget.NewRichTextFromMarkdown("## Model"), v.card, v.loadBar, v.loadCancel,
		widget.NewRichTextFromMarkdown("### In your Hugging Face cache"), v.cached,
		widget.NewRichTextFromMarkdown("### Recent"), v.recent,
		container.NewHBox(openFolder, openFile),
	)
	right := container.NewVBox(
		widget.NewRichTextFromMarkdown("## Get a small instruct model"), downloads,
		v.progress, container.NewBorder(nil, nil, nil, v.cancel, v.dlLabel),
		widget.NewRichTextFromMarkdown("## Explore without a model"),
		widget.NewLabel("Published NPTI neuron sets (e.g. Llama-3-8B-Instruct) or a stats folder:"),
		container.NewHBox(openSets, openStats),
		widget.NewRichTextFromMarkdown("## Continue"),
		container.NewHBox(openSession, help),
	)
	v.left = container.NewVScroll(left)
	v.content = container.NewPadded(container.NewGridWithColumns(2, v.left, container.NewVScroll(right)))
	u.name(tabStart, "start.openSets", openSets)
	u.name(tabStart, "start.openFolder", openFolder)
	u.name(tabStart, "start.repoID", v.repoID)
	v.refreshLists()
	return v
}

// refreshLists fills the cached and recent model lists.
func (v *startView) refreshLists() {
	v.cached.RemoveAll()
	models, err := v.u.engine.Cached()
	if err != nil {
		v.cached.Add(widget.NewLabel(err.Error()))
	}
	for _, m := range models {
		label := fmt.Sprintf("%s  (%s)", m.RepoID, humanBytes(m.Size))
		v.cached.Add(widget.NewButton(label, func() { v.load(m.Dir) }))
	}
	if len(models) == 0 && err == nil {
		v.cached.Add(widget.NewLabel("(none found)"))
	}
	v.recent.RemoveAll()
	for _, p := range v.recentModels() {
		v.recent.Add(widget.NewButton(p, func() { v.load(p) }))
	}
	if len(v.recentModels()) == 0 {
		v.recent.Add(widget.NewLabel("(none yet)"))
	}
}

// recentModels returns the remembered model paths, newest first.
func (v *startView) recentModels() []string {
	var out []string
	for _, p := range v.u.app.Preferences().StringList(prefRecent) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// remember puts path first in the recent models list (at most 8).
func (v *startView) remember(path string) {
	list := slices.DeleteFunc(v.recentModels(), func(p string) bool { return p == path })
	list = append([]string{path}, list...)
	if len(list) > 8 {
		list = list[:8]
	}
	v.u.app.Preferences().SetStringList(prefRecent, list)
}

// setCard shows text in the model card and lays its column out again: the
// wrapped card can change its line count, and the headings below it must
// move with it (they overlapped a four-line card otherwise).
func (v *startView) setCard(text string) {
	v.card.SetText(text)
	v.left.Refresh()
}

// load opens a model in the background and shows its card, with a
// running bar and Cancel while it loads.
func (v *startView) load(path string) { v.loadThen(path, nil) }

// loadThen is load, calling then on the UI goroutine once the model is
// loaded (not after a failed or cancelled load).
func (v *startView) loadThen(path string, then func()) {
	if v.loadStop != nil {
		v.u.showError(fmt.Errorf("load %s: another model is still loading (Cancel it first)", path))
		return
	}
	v.u.setStatus("Loading model " + path + " …")
	v.setCard("Loading " + path + " …")
	v.loadBar.Show()
	v.loadBar.Start()
	v.loadCancel.Show()
	v.loadDone = make(chan struct{})
	done := v.loadDone
	var info ModelInfo
	v.loadStop = v.u.goWork(func(ctx context.Context) error {
		var err error
		info, err = v.u.engine.Load(ctx, path)
		return err
	}, func(err error) {
		defer close(done)
		v.loadStop = nil
		v.loadBar.Stop()
		v.loadBar.Hide()
		v.loadCancel.Hide()
		if errors.Is(err, context.Canceled) {
			v.setCard(v.cardText())
			v.u.setStatus("Loading " + path + " cancelled.")
			return
		}
		if err != nil {
			v.setCard(v.cardText())
			v.u.showError(fmt.Errorf("load %s: %w", path, err))
			return
		}
		v.u.st.model = &info
		v.setCard(modelCard(info))
		v.remember(path)
		v.refreshLists()
		v.u.identify.modelChanged()
		v.u.induce.modelChanged()
		v.u.setStatus(fmt.Sprintf("Model loaded: %s (%d layers × %d neurons).", info.Name, info.Layers, info.Neurons))
		if v.u.st.stats == nil && len(v.u.st.sets) > 0 {
			v.u.st.shapeChanged() // the model's shape may now apply, or no longer
			v.u.explore.dataChanged()
			v.u.warnSetsMismatch()
		}
		if then != nil {
			then()
		}
		v.u.dumpLayout()
	})
}

// cardText is the model card of the current model (after a failed or
// cancelled load: the model still loaded, if any).
func (v *startView) cardText() string {
	if m := v.u.st.model; m != nil {
		return modelCard(*m)
	}
	return "No model loaded."
}

func (v *startView) onCancelLoad() {
	if v.loadStop != nil {
		v.loadStop()
	}
}

// onDownloadRepo downloads the repository id typed in the entry.
func (v *startView) onDownloadRepo() {
	id := strings.TrimSpace(v.repoID.Text)
	if err := checkRepoID(id); err != nil {
		v.u.showError(err)
		return
	}
	v.download(id)
}

// checkRepoID checks the form of a Hugging Face repository id.
func checkRepoID(id string) error {
	org, name, ok := strings.Cut(id, "/")
	bad := !ok || org == "" || name == "" || strings.Contains(name, "/") ||
		strings.ContainsAny(id, " \t\\:") || strings.Contains(id, "..")
	if bad {
		return fmt.Errorf("download: %q is not a repository id: want owner/name, e.g. Qwen/Qwen2.5-0.5B-Instruct", id)
	}
	return nil
}

// modelCard formats the model description.
func modelCard(m ModelInfo) string {
	chat := "no chat template"
	if m.HasChat {
		chat = "chat template"
	}
	weights := "weights"
	if m.WeightDType != "" {
		weights = m.WeightDType + " weights"
	}
	return fmt.Sprintf("%s\n%s · %d layers × %d neurons (%d FFN neurons) · %s · backend %s · %s of %s · %s\n%s",
		m.Name, m.Architecture, m.Layers, m.Neurons, m.Layers*m.Neurons, strings.ToLower(m.DType), m.Backend,
		humanBytes(m.WeightBytes), weights, chat, m.Path)
}

// humanBytes formats a byte count.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (v *startView) onOpenFolder() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.load(dir.Path())
	}, v.u.win).Show()
}

func (v *startView) onOpenFile() {
	dialog.NewFileOpen(func(f fyne.URIReadCloser, err error) {
		if err != nil || f == nil {
			v.u.showError(err)
			return
		}
		f.Close()
		v.load(f.URI().Path())
	}, v.u.win).Show()
}

func (v *startView) onOpenSets() {
	dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			v.u.showError(err)
			return
		}
		v.u.explore.openSets(dir.Path())
	}, v.u.win).Show()
}

// download fetches a suggested model with a progress bar and Cancel, then
// loads it.
func (v *startView) download(id string) {
	if v.stop != nil {
		return
	}
	v.progress.SetValue(0)
	v.progress.Show()
	v.cancel.Show()
	v.dlLabel.SetText("Downloading " + id + " …")
	thr := newThrottle(100)
	var dir string
	v.stop = v.u.goWork(func(ctx context.Context) error {
		var err error
		dir, err = v.u.engine.Download(ctx, id, func(file string, done, total int64) {
			if !thr.ok() {
				return
			}
			v.u.do(func() {
				if total > 0 {
					v.progress.SetValue(float64(done) / float64(total))
				}
				v.dlLabel.SetText(fmt.Sprintf("%s: %s of %s", filepath.Base(file), humanBytes(done), humanBytes(total)))
			})
		})
		return err
	}, func(err error) {
		v.stop = nil
		v.cancel.Hide()
		v.progress.Hide()
		v.progress.SetValue(0)
		if errors.Is(err, context.Canceled) {
			v.dlLabel.SetText("Download of " + id + " cancelled.")
			v.u.setStatus("Download of " + id + " cancelled.")
			return
		}
		if err != nil {
			v.dlLabel.SetText("Download failed.")
			v.u.showError(fmt.Errorf("download %s: %w", id, err))
			return
		}
		v.dlLabel.SetText("Downloaded " + id + ".")
		v.load(dir)
	})
}

func (v *startView) onCancel() {
	if v.stop != nil {
		v.stop()
	}
}
