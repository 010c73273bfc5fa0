package dccpbench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Condition is one impairment of the path between our stack and the
// kernel, applied by link/fault to both directions.
type Condition struct {
	Name    string  `json:"name"`
	Loss    float64 `json:"loss,omitempty"`
	Reorder float64 `json:"reorder,omitempty"`
	// ReorderDelay is how long a reordered packet is held back (wall
	// clock; link/fault's default 1 ms when zero).
	ReorderDelay time.Duration `json:"reorder_delay,omitempty"`
}

// Conditions are the three: none, 1 % random loss, reordering.
var Conditions = []Condition{
	{Name: "none"},
	{Name: "loss-1%", Loss: 0.01},
	{Name: "reorder-5%", Reorder: 0.05},
}

// The paths of a transfer: which end sends.
const (
	UsToLinux = "us-to-linux"
	LinuxToUs = "linux-to-us"
)

// Protos are the protocols measured, TCP last (the reference).
var Protos = []string{"ccid2", "ccid3", "tcp"}

// Result is one transfer, counted at the receiving application. The guest
// prints each as one line: linePrefix and its JSON.
type Result struct {
	Condition string `json:"condition"`
	Proto     string `json:"proto"`
	Path      string `json:"path"`
	Rep       int    `json:"rep"`
	Bytes     int64  `json:"bytes"`
	ElapsedNS int64  `json:"elapsed_ns"`
	// Sent and Delivered count datagrams (DCCP only).
	Sent      int64 `json:"sent,omitempty"`
	Delivered int64 `json:"delivered,omitempty"`
	// LinkLost and LinkReordered are what link/fault did to the packets
	// of this transfer, both directions together.
	LinkLost      uint64 `json:"link_lost"`
	LinkReordered uint64 `json:"link_reordered"`
	// TunDrops is what the kernel dropped at the TUN device during the
	// transfer (its queue towards us full, or packets from us refused).
	TunDrops uint64 `json:"tun_drops"`
	// Retransmits is the TCP sender's retransmitted segments (ours:
	// stack.TCPCounters; Linux: tcp_info's total_retrans).
	Retransmits uint64 `json:"retransmits,omitempty"`
	// LossEvents is what our CCID 3 receiver counted (linux-to-us).
	LossEvents uint64 `json:"loss_events,omitempty"`
	// LinuxRecvDrops is the kernel receiving socket's sk_drops
	// (us-to-linux).
	LinuxRecvDrops uint64 `json:"linux_recv_drops,omitempty"`
	// RecvQueueDrops is our receiving connection's full-queue drops.
	RecvQueueDrops uint64 `json:"recv_queue_drops,omitempty"`
	// SeqWindowStalls is our sending connection's waits for the
	// Sequence Window (us-to-linux).
	SeqWindowStalls uint64 `json:"seqwin_stalls,omitempty"`
	// LinuxP is Linux's CCID 3 loss event rate at the end, in Linux's
	// units of 1e-6 (its sender's tfrctx_p, or its receiver's tfrcrx_p);
	// nil when not read.
	LinuxP *float64 `json:"linux_p_1e6,omitempty"`
	Err    string   `json:"error,omitempty"`
}

// Mbps is the goodput in Mbit/s.
func (r Result) Mbps() float64 {
	if r.ElapsedNS <= 0 {
		return 0
	}
	return float64(r.Bytes) * 8 / (float64(r.ElapsedNS) / 1e9) / 1e6
}

// DeliveredPercent is the share of datagrams read of those written
// (100 for TCP).
func (r Result) DeliveredPercent() float64 {
	if r.Sent == 0 {
		return 100
	}
	return 100 * float64(r.Delivered) / float64(r.Sent)
}

const linePrefix = "VMBENCH "

func (r Result) line() string {
	b, _ := json.Marshal(r)
	return linePrefix + string(b)
}

// ParseOutput returns the results in the guest's output, in order.
func ParseOutput(out []byte) []Result {
	var rs []Result
	for l := range strings.Lines(string(out)) {
		i := strings.Index(l, linePrefix)
		if i < 0 {
			continue
		}
		var r Result
		if json.Unmarshal([]byte(strings.TrimSpace(l[i+len(linePrefix):])), &r) == nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// Figure is min / median / max over the repetitions that finished.
type Figure struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

func figureOf(v []float64) *Figure {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &Figure{Min: s[0], Median: med, Max: s[len(s)-1], Runs: len(s)}
}

// Row is one protocol under one condition: each path's throughput, the
// ratios that carry over from TCG, and the medians of the counts.
type Row struct {
	Condition string `json:"condition"`
	Proto     string `json:"proto"`
	// Ours is our sender (us-to-linux), Linux its sender (linux-to-us).
	Ours  *Figure `json:"ours_mbps"`
	Linux *Figure `json:"linux_mbps"`
	// OursOverLinux is Ours' median over Linux's; OursVsTCP and
	// LinuxVsTCP each path's median over TCP's on the same path.
	OursOverLinux *float64 `json:"ours_over_linux,omitempty"`
	OursVsTCP     *float64 `json:"ours_vs_tcp,omitempty"`
	LinuxVsTCP    *float64 `json:"linux_vs_tcp,omitempty"`
	// Counts are medians by name and path ("delivered-%/us-to-linux").
	Counts map[string]float64 `json:"counts"`
	// Failures are the transfers that did not finish: "path rep N:
	// error".
	Failures []string `json:"failures,omitempty"`
}

// Summarize groups results into rows, condition by condition.
func Summarize(rs []Result) []Row {
	type key struct{ cond, proto, path string }
	mbps := map[key][]float64{}
	counts := map[key]map[string][]float64{}
	errs := map[key][]string{}
	for _, r := range rs {
		k := key{r.Condition, r.Proto, r.Path}
		if r.Err != "" {
			errs[k] = append(errs[k], fmt.Sprintf("%s rep %d: %s", r.Path, r.Rep, r.Err))
			continue
		}
		mbps[k] = append(mbps[k], r.Mbps())
		if counts[k] == nil {
			counts[k] = map[string][]float64{}
		}
		c := counts[k]
		c["link-lost"] = append(c["link-lost"], float64(r.LinkLost))
		c["reordered"] = append(c["reordered"], float64(r.LinkReordered))
		c["tun-drops"] = append(c["tun-drops"], float64(r.TunDrops))
		if r.Proto == "tcp" {
			c["retransmits"] = append(c["retransmits"], float64(r.Retransmits))
			continue
		}
		c["delivered-%"] = append(c["delivered-%"], r.DeliveredPercent())
		if r.Path == LinuxToUs {
			c["our-recv-queue-drops"] = append(c["our-recv-queue-drops"], float64(r.RecvQueueDrops))
			if r.Proto == "ccid3" {
				c["our-loss-events"] = append(c["our-loss-events"], float64(r.LossEvents))
			}
		} else {
			c["our-seqwin-stalls"] = append(c["our-seqwin-stalls"], float64(r.SeqWindowStalls))
			c["linux-recv-drops"] = append(c["linux-recv-drops"], float64(r.LinuxRecvDrops))
		}
		if r.Proto == "ccid3" && r.LinuxP != nil {
			c["linux-p"] = append(c["linux-p"], *r.LinuxP)
		}
	}
	ratio := func(a, b *Figure) *float64 {
		if a == nil || b == nil || b.Median == 0 {
			return nil
		}
		v := a.Median / b.Median
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	var rows []Row
	for _, cond := range Conditions {
		tcpUs, tcpLinux := figureOf(mbps[key{cond.Name, "tcp", UsToLinux}]), figureOf(mbps[key{cond.Name, "tcp", LinuxToUs}])
		for _, proto := range Protos {
			ku, kl := key{cond.Name, proto, UsToLinux}, key{cond.Name, proto, LinuxToUs}
			row := Row{Condition: cond.Name, Proto: proto, Ours: figureOf(mbps[ku]), Linux: figureOf(mbps[kl]),
				Counts: map[string]float64{}, Failures: append(errs[ku], errs[kl]...)}
			if row.Ours == nil && row.Linux == nil && len(row.Failures) == 0 {
				continue
			}
			row.OursOverLinux = ratio(row.Ours, row.Linux)
			if proto != "tcp" {
				row.OursVsTCP, row.LinuxVsTCP = ratio(row.Ours, tcpUs), ratio(row.Linux, tcpLinux)
			}
			for _, k := range []key{ku, kl} {
				for name, v := range counts[k] {
					row.Counts[name+"/"+k.path] = figureOf(v).Median
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// WriteTable writes rows as a Markdown table.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| condition | proto | ours → Linux Mbit/s (min / median / max) | Linux → ours Mbit/s (min / median / max) | ours / Linux | ours / TCP | Linux / TCP | delivered % (→L, →us) | receiver's drops (Linux's sk_drops →L, our queue →us) | link lost (→L, →us) | TUN drops (→L, →us) | TCP retransmits (ours, Linux) | CCID 3 p ×1e6 (Linux rx, Linux tx) / our loss events |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		c := func(name string) string {
			a, okA := r.Counts[name+"/"+UsToLinux]
			b, okB := r.Counts[name+"/"+LinuxToUs]
			if !okA && !okB {
				return "—"
			}
			return fmt.Sprintf("%s, %s", num(a, okA), num(b, okB))
		}
		ccid3 := "—"
		if r.Proto == "ccid3" {
			ccid3 = c("linux-p") + " / " + num(r.Counts["our-loss-events/"+LinuxToUs], true)
		}
		retx := "—"
		if r.Proto == "tcp" {
			retx = c("retransmits")
		}
		delivered, qdrops := "—", "—"
		if r.Proto != "tcp" {
			delivered = c("delivered-%")
			a, okA := r.Counts["linux-recv-drops/"+UsToLinux]
			b, okB := r.Counts["our-recv-queue-drops/"+LinuxToUs]
			qdrops = num(a, okA) + ", " + num(b, okB)
		}
		name := r.Proto
		if len(r.Failures) > 0 {
			name += fmt.Sprintf(" (%d failed)", len(r.Failures))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Condition, name,
			cell(r.Ours), cell(r.Linux), ratioCell(r.OursOverLinux), ratioCell(r.OursVsTCP), ratioCell(r.LinuxVsTCP),
			delivered, qdrops, c("link-lost"), c("tun-drops"), retx, ccid3)
	}
	sep := "\n"
	for _, r := range rows {
		for _, f := range r.Failures {
			fmt.Fprintf(w, "%sfailed: %s %s %s\n", sep, r.Condition, r.Proto, f)
			sep = ""
		}
	}
}

func cell(f *Figure) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%s / **%s** / %s", num(f.Min, true), num(f.Median, true), num(f.Max, true))
}

func ratioCell(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", *v)
}

func num(v float64, ok bool) string {
	switch {
	case !ok:
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
