package ui

import (
	"context"
	"strings"
	"testing"
)

// slowDownload is an engine whose downloads run until cancelled.
type slowDownload struct {
	*tinyEngine
	started chan struct{}
}

func (e *slowDownload) Download(ctx context.Context, id string, progress func(string, int64, int64)) (string, error) {
	progress("model.safetensors", 5, 10)
	close(e.started)
	<-ctx.Done()
	return "", ctx.Err()
}

// TestDownloadCancel cancels a download: a neutral "cancelled" state, no
// error dialog, progress reset.
func TestDownloadCancel(t *testing.T) {
	eng := &slowDownload{&tinyEngine{}, make(chan struct{})}
	u := newTestUI(t, eng)
	u.start.download("org/model")
	<-eng.started
	u.start.onCancel()
	waitStatus(t, u, "Download of org/model cancelled.")
	if got := overlayText(u); got != "" {
		t.Errorf("cancel shows a dialog: %q", got)
	}
	if u.start.progress.Visible() || u.start.progress.Value != 0 || u.start.cancel.Visible() {
		t.Error("download progress not reset after cancel")
	}
}

// TestSweepCancel cancels a dose-response sweep: the status says so, no
// error dialog, and the progress bar is back at 0.
func TestSweepCancel(t *testing.T) {
	u := newTestUI(t, &tinyEngine{})
	u.start.load(sharedDir(t, "models", "persona-tiny"))
	waitStatus(t, u, "Model loaded")
	rv := u.report
	rv.gammas.SetText("0.5, 1, 1.5, 2")
	rv.tokens.SetText("200")
	rv.onSweep()
	if rv.stop == nil {
		t.Fatalf("sweep did not start: %q", u.status.Text)
	}
	rv.stop()
	wait(t, rv.done, "sweep")
	waitStatus(t, u, "cancelled")
	if got := overlayText(u); got != "" {
		t.Errorf("cancel shows a dialog: %q", got)
	}
	if rv.progress.Value != 0 || !strings.Contains(rv.sweepInfo.Text, "Cancelled") || rv.result != nil {
		t.Errorf("progress %v, info %q after cancel", rv.progress.Value, rv.sweepInfo.Text)
	}
}
