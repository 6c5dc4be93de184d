package safetensors

import (
	"math"
	"testing"
)

func TestF16ToFloat32(t *testing.T) {
	cases := []struct {
		bits uint16
		want float64
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},
		{0x0400, math.Ldexp(1, -14)},    // smallest normal
		{0x0001, math.Ldexp(1, -24)},    // smallest subnormal
		{0x03ff, math.Ldexp(1023, -24)}, // largest subnormal
		{0x8001, -math.Ldexp(1, -24)},
		{0x7c00, math.Inf(1)},
		{0xfc00, math.Inf(-1)},
		{0x0000, 0},
	}
	for _, c := range cases {
		if got := F16ToFloat32(c.bits); float64(got) != c.want {
			t.Errorf("F16ToFloat32(%#04x) = %v, want %v", c.bits, got, c.want)
		}
	}
	if got := F16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("F16ToFloat32(0x8000) = %v, want -0", got)
	}
	for _, b := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if got := F16ToFloat32(b); got == got {
			t.Errorf("F16ToFloat32(%#04x) = %v, want NaN", b, got)
		}
	}
}

// TestF16Exhaustive checks all finite half floats against the textbook
// formula (-1)^s * 2^(e-15) * (1 + m/1024), or 2^-14 * m/1024 if e == 0.
func TestF16Exhaustive(t *testing.T) {
	for b := 0; b < 1<<16; b++ {
		s, e, m := b>>15, (b>>10)&0x1f, b&0x3ff
		if e == 0x1f {
			continue
		}
		want := math.Ldexp(float64(m)/1024, -14)
		if e != 0 {
			want = math.Ldexp(1+float64(m)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		if got := F16ToFloat32(uint16(b)); float64(got) != want {
			t.Fatalf("F16ToFloat32(%#04x) = %v, want %v", b, got, want)
		}
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3f80, 1}, {0xc000, -2}, {0x7f80, float32(math.Inf(1))}, {0x0001, math.Float32frombits(0x10000)},
		{0x4049, 3.140625},
	}
	for _, c := range cases {
		if got := BF16ToFloat32(c.bits); got != c.want {
			t.Errorf("BF16ToFloat32(%#04x) = %v, want %v", c.bits, got, c.want)
		}
		if back := Float32ToBF16(c.want); back != c.bits {
			t.Errorf("Float32ToBF16(%v) = %#04x, want %#04x", c.want, back, c.bits)
		}
	}
	// Round to nearest even: 1 + 2^-8 is halfway between 1 and 1+2^-7.
	if got := Float32ToBF16(1 + 1.0/256); got != 0x3f80 {
		t.Errorf("Float32ToBF16(1+2^-8) = %#04x, want 0x3f80", got)
	}
	if got := Float32ToBF16(float32(math.NaN())); BF16ToFloat32(got) == BF16ToFloat32(got) {
		t.Errorf("Float32ToBF16(NaN) = %#04x, not NaN", got)
	}
}
