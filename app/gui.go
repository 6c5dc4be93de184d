package app

import (
	"context"

	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

// runGUI opens the desktop app.
func runGUI(_ context.Context, _ []string) error {
	a := fyneapp.NewWithID("io.github.npti_studio.npti")
	w := a.NewWindow("NPTI Studio")
	w.SetContent(widget.NewLabel("NPTI Studio"))
	w.ShowAndRun()
	return nil
}
