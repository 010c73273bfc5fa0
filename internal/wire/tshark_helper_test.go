package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pcap"
)

// This file is a small, protocol-agnostic bridge to tshark, the
// independent decoder our packets are checked against: write packets to a
// pcap, run tshark on it, and read fields out of its JSON by their dotted
// Wireshark names ("tcp.srcport", "dccp.seq").

// tsharkPath returns the path of tshark, or skips the test loudly when it
// is missing (CI installs it, so there the test always runs).
func tsharkPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("tshark")
	if err != nil {
		tb.Skip("SKIPPING: tshark not installed: install it with apt-get install tshark (CI does)")
	}
	return p
}

// tsharkWritePcap writes pkts (raw IP packets) to a pcap file in a
// temporary directory, one microsecond apart, and returns its path.
func tsharkWritePcap(tb testing.TB, pkts [][]byte) string {
	tb.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(clock.Instant(1_700_000_000_000_000_000+int64(i)*1000), p); err != nil {
			tb.Fatal(err)
		}
	}
	path := filepath.Join(tb.TempDir(), "packets.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// tsharkLayers runs tshark on the pcap at path with the given preferences
// ("tcp.check_checksum:TRUE", ...) and returns, per packet, the "layers"
// object of its JSON output. Repeated fields are merged into arrays
// (--no-duplicate-keys), so no value is lost to Go's map decoding.
func tsharkLayers(tb testing.TB, path string, prefs ...string) []map[string]any {
	tb.Helper()
	args := []string{"-r", path, "-T", "json", "--no-duplicate-keys"}
	for _, p := range prefs {
		args = append(args, "-o", p)
	}
	cmd := exec.Command(tsharkPath(tb), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	var pkts []struct {
		Source struct {
			Layers map[string]any `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		tb.Fatalf("tshark JSON: %v\n%s", err, out)
	}
	layers := make([]map[string]any, len(pkts))
	for i, p := range pkts {
		layers[i] = p.Source.Layers
	}
	return layers
}

// tsharkFields returns every value of the field with the dotted name
// found anywhere in the tree v (tshark nests fields in "..._tree"
// objects), in document order for repeated fields and in key order across
// objects. Scalars are returned as tshark prints them (strings).
func tsharkFields(v any, name string) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if k == name {
					out = append(out, tsharkScalars(v[k])...)
				} else {
					walk(v[k])
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// tsharkScalars flattens a field's value (a scalar, or an array of them
// for a repeated field) into strings; nested objects are skipped.
func tsharkScalars(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, tsharkScalars(e)...)
		}
		return out
	case nil, map[string]any:
		return nil
	default:
		b, _ := json.Marshal(v)
		return []string{string(b)}
	}
}

// tsharkField returns the single value of a field, and whether it was
// present; it fails the test when the field repeats.
func tsharkField(tb testing.TB, v any, name string) (string, bool) {
	tb.Helper()
	vals := tsharkFields(v, name)
	switch len(vals) {
	case 0:
		return "", false
	case 1:
		return vals[0], true
	}
	tb.Fatalf("tshark field %s repeats: %q", name, vals)
	return "", false
}

// tsharkKeys lists a layer map's keys, for error messages.
func tsharkKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
