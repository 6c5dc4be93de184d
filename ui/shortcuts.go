package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// shortcut is one keyboard shortcut: Ctrl (Cmd on macOS) plus Key, with
// Shift when shift is set.
type shortcut struct {
	key   fyne.KeyName
	shift bool
	what  string
	fn    func()
}

// shortcuts lists the keyboard shortcuts; the help (F1, Ctrl+/) shows
// the same list.
func (u *UI) shortcuts() []shortcut {
	s := []shortcut{
		{fyne.KeyO, false, "Open a model folder", u.start.onOpenFolder},
		{fyne.KeyO, true, "Open a session file", u.onOpenSession},
		{fyne.KeyS, false, "Save the session", u.onSaveSession},
		{fyne.KeyR, false, "Run identification", u.identify.onRun},
		{fyne.KeyH, false, "Induce the high pole", func() { u.induce.run(0) }},
		{fyne.KeyL, false, "Induce the low pole", func() { u.induce.run(1) }},
		{fyne.KeyPeriod, false, "Stop generation", u.induce.onStop},
		{fyne.KeyE, false, "Export all to a folder…", u.report.onExportAll},
		{fyne.KeyE, true, "Quick export to ~/npti-studio/exports", u.report.onQuickExport},
		{fyne.KeySlash, false, "Show this help (also F1)", u.showHelp},
	}
	for i, title := range []string{tabStart, tabIdentify, tabExplore, tabInduce, tabReport} {
		s = append(s, shortcut{fyne.KeyName(fmt.Sprint(i + 1)), false, "Show the " + title + " tab", func() { u.showTab(title) }})
	}
	return s
}

// label formats a shortcut's keys.
func (s shortcut) label() string {
	k := "Ctrl+"
	if s.shift {
		k += "Shift+"
	}
	return k + string(s.key)
}

// addShortcuts binds the keyboard shortcuts, and F1 to the help.
func (u *UI) addShortcuts() {
	c := u.win.Canvas()
	for _, s := range u.shortcuts() {
		mod := fyne.KeyModifierShortcutDefault
		if s.shift {
			mod |= fyne.KeyModifierShift
		}
		fn := s.fn
		c.AddShortcut(&desktop.CustomShortcut{KeyName: s.key, Modifier: mod}, func(fyne.Shortcut) { fn() })
	}
	c.SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyF1 {
			u.showHelp()
		}
	})
}

// showHelp shows the keyboard shortcuts.
func (u *UI) showHelp() {
	grid := shortcutForm(u.shortcuts())
	d := dialog.NewCustom("Keyboard shortcuts", "Close", grid, u.win)
	d.Show()
	u.debugf("help shown")
}

// shortcutForm lays the shortcuts out as a two-column form.
func shortcutForm(ss []shortcut) fyne.CanvasObject {
	f := widget.NewForm(widget.NewFormItem("F1", widget.NewLabel("Show this help")))
	for _, s := range ss {
		f.Append(s.label(), widget.NewLabel(s.what))
	}
	return f
}

func (u *UI) onSaveSession() {
	dialog.NewFileSave(func(f fyne.URIWriteCloser, err error) {
		if err != nil || f == nil {
			u.showError(err)
			return
		}
		f.Close()
		if err := u.saveSession(f.URI().Path()); err != nil {
			u.showError(err)
			return
		}
		u.setStatus("Session saved to " + f.URI().Path() + ".")
	}, u.win).Show()
}

func (u *UI) onOpenSession() {
	dialog.NewFileOpen(func(f fyne.URIReadCloser, err error) {
		if err != nil || f == nil {
			u.showError(err)
			return
		}
		f.Close()
		u.OpenSession(f.URI().Path())
	}, u.win).Show()
}
