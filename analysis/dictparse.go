package analysis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// dictParser is a strict, allocation-light parser for the neuron dict
// grammar: an object whose values are null or lists of number lists.
// encoding/json handles the same input about ten times slower, which
// matters for the 3–4 MB published files.
type dictParser struct {
	data []byte
	pos  int
}

// errAt returns a syntax error at the current byte offset.
func (p *dictParser) errAt(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	rest := string(p.data[p.pos:min(p.pos+9, len(p.data))])
	for _, lit := range []string{"NaN", "Infinity", "-Infinity"} {
		if strings.HasPrefix(rest, lit) {
			msg += " (NaN and Infinity are not JSON)"
			break
		}
	}
	return fmt.Errorf("invalid JSON at byte %d: %s", p.pos, msg)
}

func (p *dictParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte (0 at the end).
func (p *dictParser) peek() byte {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return 0
	}
	return p.data[p.pos]
}

// expect consumes byte c after whitespace.
func (p *dictParser) expect(c byte) error {
	switch got := p.peek(); {
	case got == c:
		p.pos++
		return nil
	case got == 0:
		return fmt.Errorf("truncated JSON: want %q at byte %d", c, p.pos)
	default:
		return p.errAt("want %q, got %q", c, got)
	}
}

// str parses a JSON string (the layer key).
func (p *dictParser) str() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	start, escaped := p.pos-1, false
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '\\':
			escaped = true
			p.pos += 2
			continue
		case c < 0x20:
			return "", p.errAt("control character in string")
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", p.errAt("bad string: %v", err)
			}
			return s, nil
		}
		p.pos++
	}
	return "", fmt.Errorf("truncated JSON: unterminated string at byte %d", start)
}

// number parses a JSON number with the strict JSON grammar.
func (p *dictParser) number() (float64, error) {
	p.skipSpace()
	start, d := p.pos, p.data
	digits := func() int {
		n := 0
		for p.pos < len(d) && d[p.pos] >= '0' && d[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(d) && d[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if n := digits(); n == 0 || (n > 1 && d[intStart] == '0') {
		p.pos = start
		return 0, p.errAt("want a number")
	}
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return 0, p.errAt("bad number")
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return 0, p.errAt("bad exponent")
		}
	}
	v, err := strconv.ParseFloat(string(d[start:p.pos]), 64)
	if err != nil {
		return 0, p.errAt("number %s out of range", d[start:p.pos])
	}
	return v, nil
}

// list parses "[ item, item ]" calling item for each element; "null"
// counts as an empty list.
func (p *dictParser) list(item func() error) error {
	if p.peek() == 'n' && len(p.data)-p.pos >= 4 && string(p.data[p.pos:p.pos+4]) == "null" {
		p.pos += 4
		return nil
	}
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if p.peek() == ']' {
			p.pos++
			return nil
		}
		if err := p.expect(','); err != nil {
			return err
		}
	}
}

// records parses one layer's list of records, calling fn with each
// five-number record; errors about a record name its position k.
func (p *dictParser) records(fn func(k int, rec []float64) error) error {
	var rec [5]float64
	k := 0
	return p.list(func() error {
		n := 0
		err := p.list(func() error {
			v, err := p.number()
			if err == nil && n < len(rec) {
				rec[n] = v
			}
			n++
			return err
		})
		if err != nil {
			return err
		}
		if n != len(rec) {
			err = fmt.Errorf("want 5 numbers [layer, neuron, diff, p, q95], got %d", n)
		} else {
			err = fn(k, rec[:])
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", k, err)
		}
		k++
		return nil
	})
}
