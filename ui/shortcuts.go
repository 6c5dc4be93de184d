package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// shortcut is one keyboard shortcut: Ctrl (Cmd on macOS) plus Key, with
// Shift when shift is set, shown in the main menu named menu.
type shortcut struct {
	menu  string
	key   fyne.KeyName
	shift bool
	what  string
	fn    func()
}

// Main menu titles.
const (
	menuFile = "File"
	menuRun  = "Run"
	menuView = "View"
	menuHelp = "Help"
)

// shortcuts lists the keyboard shortcuts; the help (F1, Ctrl+/) shows
// the same list.
func (u *UI) shortcuts() []shortcut {
	s := []shortcut{
		{menuFile, fyne.KeyO, false, "Open a model folder", u.start.onOpenFolder},
		{menuFile, fyne.KeyO, true, "Open a session file", u.onOpenSession},
		{menuFile, fyne.KeyS, false, "Save the session", u.onSaveSession},
		{menuFile, fyne.KeyE, false, "Export all to a folder…", u.report.onExportAll},
		{menuFile, fyne.KeyE, true, "Quick export to ~/npti-studio/exports", u.report.onQuickExport},
		{menuRun, fyne.KeyR, false, "Run identification", u.identify.onRun},
		{menuRun, fyne.KeyH, false, "Induce the high pole", func() { u.induce.run(0) }},
		{menuRun, fyne.KeyL, false, "Induce the low pole", func() { u.induce.run(1) }},
		{menuRun, fyne.KeyPeriod, false, "Stop generation", u.induce.onStop},
	}
	for i, title := range []string{tabStart, tabIdentify, tabExplore, tabInduce, tabReport} {
		s = append(s, shortcut{menuView, fyne.KeyName(fmt.Sprint(i + 1)), false, "Show the " + title + " tab", func() { u.showTab(title) }})
	}
	return append(s, shortcut{menuHelp, fyne.KeySlash, false, "Show this help (also F1)", u.showHelp})
}

// label formats a shortcut's keys.
func (s shortcut) label() string {
	k := "Ctrl+"
	if s.shift {
		k += "Shift+"
	}
	return k + string(s.key)
}

// keys returns the shortcut as Fyne matches it.
func (s shortcut) keys() *desktop.CustomShortcut {
	mod := fyne.KeyModifierShortcutDefault
	if s.shift {
		mod |= fyne.KeyModifierShift
	}
	return &desktop.CustomShortcut{KeyName: s.key, Modifier: mod}
}

// mainMenu lays the shortcuts out as the window's menu bar. The desktop
// driver tries the main menu's shortcuts before the focused widget, so
// they work while the text cursor is in a field (a focused entry takes
// every Ctrl+key that only the canvas knows).
func (u *UI) mainMenu() *fyne.MainMenu {
	var menus []*fyne.Menu
	byTitle := map[string]*fyne.Menu{}
	for _, s := range u.shortcuts() {
		m := byTitle[s.menu]
		if m == nil {
			m = fyne.NewMenu(s.menu)
			byTitle[s.menu] = m
			menus = append(menus, m)
		}
		it := fyne.NewMenuItem(s.what, s.fn)
		it.Shortcut = s.keys()
		m.Items = append(m.Items, it)
	}
	return fyne.NewMainMenu(menus...)
}

// addShortcuts sets the main menu with the keyboard shortcuts, binds them
// on the canvas too (for drivers without a menu bar), and F1 to the help
// (entries pass F1 on: entry.go).
func (u *UI) addShortcuts() {
	u.win.SetMainMenu(u.mainMenu())
	c := u.win.Canvas()
	for _, s := range u.shortcuts() {
		fn := s.fn
		c.AddShortcut(s.keys(), func(fyne.Shortcut) { fn() })
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
