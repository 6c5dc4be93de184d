package ui

import (
	"sync"
	"time"
)

// throttle lets an event through at most once per interval; streaming
// updates use it so the UI is refreshed every 50–100 ms, never per token.
type throttle struct {
	mu    sync.Mutex
	every time.Duration
	last  time.Time
}

func newThrottle(ms int) *throttle { return &throttle{every: time.Duration(ms) * time.Millisecond} }

// ok reports whether the interval has passed since the last event let through.
func (t *throttle) ok() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := time.Now(); now.Sub(t.last) >= t.every {
		t.last = now
		return true
	}
	return false
}
