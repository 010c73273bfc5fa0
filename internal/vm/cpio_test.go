package vm

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// cpioEntry is one decoded newc entry.
type cpioEntry struct {
	name         string
	mode         uint32
	rmaj, rmin   uint32
	data         string
	headerOffset int
}

// readCPIO decodes a newc archive as the kernel's initramfs unpacker reads
// it, checking magic, hex fields and four-byte alignment.
func readCPIO(b []byte) ([]cpioEntry, error) {
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 || off+110 > len(b) {
			return nil, fmt.Errorf("header at %d: misaligned or truncated", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			return nil, fmt.Errorf("header at %d: magic %q", off, h[:6])
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("header at %d field %d: %v", off, i, err)
			}
			f[i] = uint32(v)
		}
		namesize, filesize := int(f[11]), int(f[6])
		nameEnd := off + 110 + namesize
		if nameEnd > len(b) || b[nameEnd-1] != 0 {
			return nil, fmt.Errorf("entry at %d: name not NUL-terminated", off)
		}
		e := cpioEntry{name: string(b[off+110 : nameEnd-1]), mode: f[1], rmaj: f[9], rmin: f[10], headerOffset: off}
		dataStart := (nameEnd + 3) &^ 3
		if dataStart+filesize > len(b) {
			return nil, fmt.Errorf("entry %q: data truncated", e.name)
		}
		e.data = string(b[dataStart : dataStart+filesize])
		out = append(out, e)
		off = (dataStart + filesize + 3) &^ 3
		if e.name == "TRAILER!!!" {
			return out, nil
		}
	}
}

func TestCPIO_EntriesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.charDev("/dev/console", 0o600, 5, 1)
	w.file("/init", 0o755, []byte("odd")) // 3 bytes: data needs padding
	w.file("/teardown/modules/dccp.ko", 0o644, []byte("four"))
	w.mkdirAll("/teardown/modules") // already there: no second entry
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	got, err := readCPIO(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"dev", cpioDir | 0o755, ""},
		{"dev/console", cpioChar | 0o600, ""},
		{"init", cpioReg | 0o755, "odd"},
		{"teardown", cpioDir | 0o755, ""},
		{"teardown/modules", cpioDir | 0o755, ""},
		{"teardown/modules/dccp.ko", cpioReg | 0o644, "four"},
		{"TRAILER!!!", 0, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.name != w.name || g.mode != w.mode || g.data != w.data {
			t.Errorf("entry %d: got %q mode %o data %q, want %q mode %o data %q", i, g.name, g.mode, g.data, w.name, w.mode, w.data)
		}
	}
	if got[1].rmaj != 5 || got[1].rmin != 1 {
		t.Errorf("/dev/console is %d:%d, want 5:1 (the console device)", got[1].rmaj, got[1].rmin)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"/init": "init", "init": "init", "/a/../b/": "b", "/": ".", "": "."} {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
