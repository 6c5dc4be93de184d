package ui

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/npti-studio/npti/ui/figure"
)

// TestExportInBackground exports the published sets in all formats: the
// call returns at once with the export running (buttons disabled, Cancel
// shown), and the files arrive complete.
func TestExportInBackground(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.explore.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "Opened 8 neuron sets")
	rv := u.report
	dir := filepath.Join(t.TempDir(), "out")
	rv.exportGate = make(chan struct{})
	rv.export(dir, []string{"svg", "pdf", "png"})
	if rv.exportStop == nil || !rv.exportB[0].Disabled() || !rv.exportCancel.Visible() {
		t.Fatal("the export does not run in the background with Cancel shown")
	}
	close(rv.exportGate)
	waitStatus(t, u, "Exported 6 plot files: 2 (svg), 2 (pdf), 2 (png)")
	for _, f := range []string{"heatmap.png", "layers.svg", "heatmap.pdf"} {
		if err := figure.CheckFile(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if rv.exportB[0].Disabled() || rv.exportCancel.Visible() || rv.exportProgress.Visible() {
		t.Error("buttons or progress not reset after the export")
	}
}

// TestExportCancel cancels an export at once: the status says so without
// an error dialog, and only complete files are left (no temporaries).
func TestExportCancel(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.explore.openSets(sharedDir(t, "data", "npti-llama3-8b-instruct"))
	waitStatus(t, u, "Opened 8 neuron sets")
	rv := u.report
	dir := filepath.Join(t.TempDir(), "out")
	rv.exportGate = make(chan struct{})
	rv.export(dir, []string{"svg", "pdf", "png"})
	rv.onCancelExport()
	close(rv.exportGate)
	waitStatus(t, u, "Export cancelled: 0 of 11 files")
	if got := overlayText(u); got != "" {
		t.Errorf("cancel shows a dialog: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("the export wrote %d files despite Cancel", len(entries))
	}
	if rv.exportStop != nil || rv.exportB[0].Disabled() || rv.exportProgress.Visible() {
		t.Error("state not reset after cancel")
	}
}
