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
	// With the model's neuron sets the sweep runs until cancelled
	// (without them it could fail, with another status, before the
	// cancel lands).
	u.explore.openSets(sharedDir(t, "models", "persona-tiny", "reference-neurons"))
	waitStatus(t, u, "Opened")
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

// slowLoad is an engine whose loads run until cancelled, and which
// records the repositories it was asked to download.
type slowLoad struct {
	*tinyEngine
	started    chan struct{}
	downloaded []string
}

func (e *slowLoad) Load(ctx context.Context, path string) (ModelInfo, error) {
	close(e.started)
	<-ctx.Done()
	return ModelInfo{}, ctx.Err()
}

func (e *slowLoad) Download(_ context.Context, id string, _ func(string, int64, int64)) (string, error) {
	e.downloaded = append(e.downloaded, id)
	return "", context.Canceled
}

// TestLoadCancel: a model load shows a running bar with Cancel; Cancel
// ends it without an error dialog and leaves no model.
func TestLoadCancel(t *testing.T) {
	eng := &slowLoad{tinyEngine: &tinyEngine{}, started: make(chan struct{})}
	u := newTestUI(t, eng)
	u.start.load("/some/model")
	<-eng.started
	if !u.start.loadBar.Visible() || !u.start.loadCancel.Visible() {
		t.Fatal("no progress or Cancel while loading")
	}
	u.start.onCancelLoad()
	wait(t, u.start.loadDone, "load")
	waitStatus(t, u, "Loading /some/model cancelled.")
	if got := overlayText(u); got != "" || u.st.model != nil || u.start.loadBar.Visible() {
		t.Errorf("after cancel: dialog %q, model %v, bar shown %v", got, u.st.model, u.start.loadBar.Visible())
	}
}

// TestDownloadRepoID: the repo id entry downloads what was typed, and
// refuses what is not an owner/name id.
func TestDownloadRepoID(t *testing.T) {
	eng := &slowLoad{tinyEngine: &tinyEngine{}, started: make(chan struct{})}
	u := newTestUI(t, eng)
	u.start.repoID.SetText("not a repo")
	u.start.onDownloadRepo()
	if got := overlayText(u); !strings.Contains(got, "not a repository id") {
		t.Errorf("bad id accepted: dialog %q", got)
	}
	u.start.repoID.SetText(" Qwen/Qwen2.5-1.5B-Instruct ")
	u.start.onDownloadRepo()
	settle(t, u)
	if len(eng.downloaded) != 1 || eng.downloaded[0] != "Qwen/Qwen2.5-1.5B-Instruct" {
		t.Errorf("downloads %v", eng.downloaded)
	}
}
