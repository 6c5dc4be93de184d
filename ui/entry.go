package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// entry is a widget.Entry that passes F1 on to the window. A focused
// widget receives every key without modifiers, so the canvas's F1 handler
// (the help) never saw F1 while the text cursor was in a field; Ctrl
// shortcuts reach the window through the main menu (shortcuts.go).
type entry struct {
	widget.Entry
}

// newEntry returns a single-line entry.
func newEntry() *entry {
	e := &entry{}
	e.ExtendBaseWidget(e)
	return e
}

// newMultiLineEntry returns a multi-line entry.
func newMultiLineEntry() *entry {
	e := newEntry()
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	return e
}

// TypedKey hands F1 to the canvas's key handler; other keys edit the text.
func (e *entry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyF1 {
		if c := canvasOf(e); c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(k)
			return
		}
	}
	e.Entry.TypedKey(k)
}

// canvasOf returns the canvas showing o, nil when it is not shown.
func canvasOf(o fyne.CanvasObject) fyne.Canvas {
	a := fyne.CurrentApp()
	if a == nil {
		return nil
	}
	return a.Driver().CanvasForObject(o)
}
