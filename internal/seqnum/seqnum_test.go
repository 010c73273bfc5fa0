package seqnum

import "testing"

func TestV32WrapOrdering(t *testing.T) {
	cases := []struct {
		a, b V32
		less bool
	}{
		{1, 2, true},
		{2, 1, false},
		{0xffff_fff0, 0x10, true}, // wrapped: 0x10 is 32 ahead
		{0x10, 0xffff_fff0, false},
		{5, 5, false},
		{0, 1<<31 - 1, true}, // the farthest w that is still ahead
	}
	for _, c := range cases {
		if got := c.a.LessThan(c.b); got != c.less {
			t.Errorf("%#x.LessThan(%#x) = %v, want %v", c.a, c.b, got, c.less)
		}
	}
	if d := V32(0x10).Sub(0xffff_fff0); d != 0x20 {
		t.Errorf("distance across the wrap = %d, want 32", d)
	}
}

func TestV32Window(t *testing.T) {
	first := V32(0xffff_fff0)
	if !V32(0x5).InWindow(first, 0x20) {
		t.Error("0x5 lies inside [0xfffffff0, +0x20)")
	}
	if V32(0x10).InWindow(first, 0x20) {
		t.Error("the window's end is exclusive")
	}
	if V32(0x7).InWindow(first, 0) {
		t.Error("an empty window holds nothing")
	}
	if got := first.Max(5); got != 5 {
		t.Errorf("Max across the wrap = %#x, want 5", got)
	}
	if got := first.Min(5); got != first {
		t.Errorf("Min across the wrap = %#x, want %#x", got, first)
	}
}

func TestV48(t *testing.T) {
	top := V48(Mask48)
	if got := top.Add(1); got != 0 {
		t.Fatalf("2^48-1 + 1 = %#x, want 0", got)
	}
	if got := V48(0).Add(-1); got != top {
		t.Fatalf("0 - 1 = %#x, want 2^48-1", got)
	}
	if !top.LessThan(3) || V48(3).LessThan(top) {
		t.Fatal("2^48-1 is before 3 across the wrap")
	}
	if d := V48(3).Sub(top); d != 4 {
		t.Fatalf("3 - (2^48-1) = %d, want 4", d)
	}
	if !V48(2).InRange(top, 5) || V48(6).InRange(top, 5) {
		t.Fatal("inclusive circular range [2^48-1, 5] is wrong")
	}
	if !V48(5).InRange(top, 5) || !top.InRange(top, 5) {
		t.Fatal("both ends of the range are inclusive")
	}
}

func TestExtend24(t *testing.T) {
	cases := []struct {
		ref  V48
		low  uint32
		want V48
	}{
		{0x1234_56ff_fff0, 0x000005, 0x1234_5700_0005}, // low bits wrapped forward
		{0x1234_5700_0005, 0xfffff0, 0x1234_56ff_fff0}, // and backward
		{0x0000_0000_0010, 0x000020, 0x0000_0000_0020},
		{0x0000_0000_0010, 0xffffff, Mask48}, // before zero: wraps to the top of the space
	}
	for _, c := range cases {
		if got := Extend24(c.ref, c.low); got != c.want {
			t.Errorf("Extend24(%#x, %#x) = %#x, want %#x", c.ref, c.low, got, c.want)
		}
	}
}
