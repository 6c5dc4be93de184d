package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// ErrTemplateRaised is wrapped by Render when the template calls
// raise_exception (e.g. Mistral's "roles must alternate" check).
var ErrTemplateRaised = errors.New("chat template raised an exception")

// newEnvironment builds the gonja environment shared by every Template: the
// gonja builtins plus the globals that HF transformers adds for chat
// templates (raise_exception, strftime_now), a capped range(), and Python
// str.strip/lstrip/rstrip semantics (strip all whitespace by default).
func newEnvironment() *exec.Environment {
	ctx := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables)
	ctx.Set("strftime_now", strftimeNow)
	return &exec.Environment{
		Context:           ctx,
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: chatStructures(),
		Methods:           pythonMethods(),
	}
}

// renderState is the per-Render state behind raise_exception and range.
type renderState struct {
	raised string // message of the first raise_exception call
	budget int    // range() items still allowed
}

// raiseException implements transformers' raise_exception(message); the
// message is kept because gonja flattens the returned error to a string.
func (st *renderState) raiseException(va *exec.VarArgs) (any, error) {
	msg := "raise_exception called"
	if len(va.Args) > 0 {
		msg = va.Args[0].String()
	}
	if st.raised == "" {
		st.raised = msg
	}
	return nil, fmt.Errorf("%w: %s", ErrTemplateRaised, msg)
}

// strftimeNow implements transformers' strftime_now(format) with the common
// C strftime directives.
func strftimeNow(va *exec.VarArgs) (any, error) {
	if len(va.Args) != 1 || !va.Args[0].IsString() {
		return nil, errors.New("strftime_now expects one string argument")
	}
	return strftime(time.Now(), va.Args[0].String()), nil
}

// strftime formats t with the C strftime directives used by chat
// templates (%d %b %Y %B %m %y %H %M %S %A %a %j %p %%); an unknown
// directive is kept verbatim, as glibc does.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			b.WriteString(map[bool]string{true: "AM", false: "PM"}[t.Hour() < 12])
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// rangeFunc is Python's range(stop) / range(start, stop[, step]) returning
// a list; all calls of one Render share a budget of maxRangeBudget items,
// so loops stay bounded.
func (st *renderState) rangeFunc(va *exec.VarArgs) (any, error) {
	var nums []int
	for _, a := range va.Args {
		if !a.IsInteger() {
			return nil, errors.New("range expects integer arguments")
		}
		nums = append(nums, a.Integer())
	}
	start, stop, step := 0, 0, 1
	switch len(nums) {
	case 1:
		stop = nums[0]
	case 2:
		start, stop = nums[0], nums[1]
	case 3:
		start, stop, step = nums[0], nums[1], nums[2]
	default:
		return nil, errors.New("range expects 1 to 3 integer arguments")
	}
	if step == 0 {
		return nil, errors.New("range step must not be zero")
	}
	n := rangeLen(start, stop, step)
	if n > uint64(st.budget) {
		return nil, fmt.Errorf("range(%d, %d, %d) exceeds the limit of %d items per render", start, stop, step, maxRangeBudget)
	}
	st.budget -= int(n)
	out := make([]any, n)
	for i := range out {
		out[i] = start + i*step
	}
	return out, nil
}

var errStripArgs = errors.New("strip expects at most one string or None argument")

// rangeLen counts the items of range(start, stop, step), step != 0,
// without overflow.
func rangeLen(start, stop, step int) uint64 {
	var d, s uint64
	switch {
	case step > 0 && stop > start:
		d, s = uint64(stop)-uint64(start), uint64(step)
	case step < 0 && start > stop:
		d, s = uint64(start)-uint64(stop), uint64(-step)
	default:
		return 0
	}
	n := d / s
	if d%s != 0 {
		n++
	}
	return n
}

// itemList is the messages list given to templates. It implements
// exec.ItemGetter because gonja v2.9.1 resolves a negative index only when
// -i < len (so messages[-1] of a one-message list is None); this applies
// Python's rule -len <= i < 0.
type itemList []any

// GetItem implements exec.ItemGetter.
func (l itemList) GetItem(key any) (*exec.Value, bool) {
	i, ok := key.(int)
	if !ok {
		return exec.AsValue(nil), false
	}
	if i < 0 {
		i += len(l)
	}
	if i < 0 || i >= len(l) {
		return exec.AsValue(nil), false
	}
	return exec.AsValue(l[i]), true
}
