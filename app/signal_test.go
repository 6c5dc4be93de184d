//go:build unix

package app

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/npti-studio/npti/analysis"
)

// firstWrite is a syncBuffer that closes started at its first write.
type firstWrite struct {
	syncBuffer
	once    sync.Once
	started chan struct{}
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	return w.syncBuffer.Write(p)
}

// SIGTERM (what kill and service managers send) stops a long run as
// Ctrl-C does: with a checkpoint to resume from, not a lost run.
func TestSIGTERMCheckpoints(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	data := neuronsShared(t, "data", "personalitybench")
	out := filepath.Join(t.TempDir(), "stats")
	args := []string{"identify", "--model", model, "--data", data, "--mode", "teacher", "--traits", "extraversion",
		"--batch", "1", "--checkpoint-every", "1", "--out", out}
	// The test holds SIGTERM too: a signal arriving after Main has
	// returned is absorbed instead of killing the test binary, and the
	// checks below fail the test (the run finished: nothing was tested).
	held := make(chan os.Signal, 1)
	signal.Notify(held, syscall.SIGTERM)
	defer signal.Stop(held)
	stderr := &firstWrite{started: make(chan struct{})}
	done := make(chan int)
	go func() {
		var stdout bytes.Buffer
		done <- Main(args, &stdout, stderr)
	}()
	select {
	case <-stderr.started: // Main is running: its signal handler is in place
	case code := <-done:
		t.Fatalf("identify ended (exit %d) before printing anything: %s", code, stderr.String())
	}
	time.Sleep(200 * time.Millisecond)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := <-done
	if code == 0 || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("after SIGTERM: exit %d, stderr %q", code, stderr.String())
	}
	set, err := analysis.LoadStats(out)
	if err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}
	if done, _ := set.Meta.Progress["complete"].(bool); done {
		t.Fatal("the run finished before SIGTERM: nothing was tested")
	}
}
