package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// menuAction returns the action of the main menu item bound to sc.
func menuAction(u *UI, sc fyne.Shortcut) func() {
	for _, m := range u.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
				return it.Action
			}
		}
	}
	return nil
}

// TestShortcutsWithFocusedEntry checks that the shortcuts do not depend
// on the canvas having the focus: every one is a main menu item (the
// desktop driver tries those before the focused widget), and a focused
// entry hands F1 on to the help.
func TestShortcutsWithFocusedEntry(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	for _, s := range u.shortcuts() {
		if menuAction(u, s.keys()) == nil {
			t.Errorf("shortcut %s (%s) is not in the main menu", s.label(), s.what)
		}
	}
	u.showTab(tabIdentify)
	u.win.Canvas().Focus(u.identify.lines)
	if u.win.Canvas().Focused() != u.identify.lines {
		t.Fatalf("the entry has no focus: %v", u.win.Canvas().Focused())
	}
	menuAction(u, &desktop.CustomShortcut{KeyName: fyne.Key4, Modifier: fyne.KeyModifierShortcutDefault})()
	if got := u.tabs.Selected().Text; got != tabInduce {
		t.Errorf("Ctrl+4 shows tab %q, want %q", got, tabInduce)
	}
	u.showTab(tabIdentify)
	u.win.Canvas().Focus(u.identify.lines)
	test.Type(u.identify.lines, "0-9")
	u.win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyF1})
	if got := overlayText(u); !strings.Contains(got, "Show this help") {
		t.Errorf("F1 in a focused entry shows no help: overlay %q", got)
	}
	if got := u.identify.lines.Text; got != "0-9" {
		t.Errorf("F1 changed the entry's text to %q", got)
	}
}
