package analysis

import (
	"fmt"
	"strings"
	"time"
)

// Progress reports how far a long run (identification, a sweep) has come:
// the aspect being worked on, the items done and to do over the whole run,
// the tokens processed and the time spent since this process started it.
// Done counts only the items of this process (not those of a resumed
// checkpoint) so that rates and the ETA are honest; Skipped gives those.
type Progress struct {
	Aspect      Aspect
	Done, Total int
	// Skipped is the number of items of Total that a resumed checkpoint
	// had already done before this process started.
	Skipped int
	Tokens  int64
	Elapsed time.Duration
}

// Rate returns the items done per minute (0 before any time has passed).
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Minutes()
}

// TokensPerSecond returns the tokens processed per second.
func (p Progress) TokensPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Tokens) / p.Elapsed.Seconds()
}

// Remaining returns the items left to do.
func (p Progress) Remaining() int { return max(0, p.Total-p.Skipped-p.Done) }

// ETA estimates the time left at the current rate; it is 0 when nothing is
// left and -1 when no rate is known yet.
func (p Progress) ETA() time.Duration {
	left := p.Remaining()
	if left == 0 {
		return 0
	}
	if p.Done == 0 || p.Elapsed <= 0 {
		return -1
	}
	return time.Duration(float64(p.Elapsed) / float64(p.Done) * float64(left))
}

// Fraction returns the share of Total done, resumed items included, in [0, 1].
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return 0
	}
	return min(1, float64(p.Skipped+p.Done)/float64(p.Total))
}

// Bar renders a one-line terminal progress bar of the given bar width:
// "[#####.....]  42/100  Extraversion high  12.3 items/min  456 tok/s  ETA 4m12s".
func (p Progress) Bar(width int) string {
	width = max(1, width)
	filled := int(p.Fraction() * float64(width))
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(strings.Repeat("#", filled))
	b.WriteString(strings.Repeat(".", width-filled))
	b.WriteByte(']')
	fmt.Fprintf(&b, " %d/%d", p.Skipped+p.Done, p.Total)
	if p.Aspect.Trait != "" {
		fmt.Fprintf(&b, "  %s", p.Aspect)
	}
	fmt.Fprintf(&b, "  %.1f items/min  %.0f tok/s  ETA %s", p.Rate(), p.TokensPerSecond(), FormatETA(p.ETA()))
	return b.String()
}

// FormatETA formats a duration for a progress line, rounded to seconds;
// a negative duration (unknown) is "?".
func FormatETA(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	return d.Round(time.Second).String()
}
