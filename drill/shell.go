package drill

import (
	"fmt"
	"strconv"
	"strings"
)

// Sysctl is a kernel setting a script's shell line makes:
// "net.ipv4.tcp_sack" = "0".
type Sysctl struct {
	Line        int
	Name, Value string
}

// defaultsSh is what packetdrill's gtests/net/common/defaults.sh sets
// (the "standard production config" its TCP scripts source), as facts:
// the settings, in its order. Its other commands (flushing TCP metrics, a
// pfifo qdisc on the tun device) change nothing a script run here sees.
var defaultsSh = [][2]string{
	{"net.ipv4.tcp_rmem", "4096 540000 15728640"},
	{"net.ipv4.tcp_wmem", "4096 262144 4194304"},
	{"net.ipv4.tcp_timestamps", "1"},
	{"net.ipv4.tcp_syn_retries", "5"},
	{"net.ipv4.tcp_synack_retries", "5"},
	{"net.ipv4.tcp_frto", "2"},
	{"net.ipv4.tcp_sack", "1"},
	{"net.ipv4.tcp_dsack", "1"},
	{"net.ipv4.tcp_fack", "0"},
	{"net.ipv4.tcp_reordering", "3"},
	{"net.ipv4.tcp_congestion_control", "cubic"},
	{"net.ipv4.tcp_slow_start_after_idle", "0"},
	{"net.ipv4.tcp_early_retrans", "4"},
	{"net.ipv4.tcp_recovery", "1"},
	{"net.ipv4.tcp_tso_win_divisor", "3"},
	{"net.ipv4.tcp_ecn", "0"},
	{"net.ipv4.tcp_ecn_option", "2"},
	{"net.ipv4.tcp_pacing_ss_ratio", "200"},
	{"net.ipv4.tcp_pacing_ca_ratio", "120"},
	{"net.ipv4.tcp_notsent_lowat", "4294967295"},
	{"net.ipv4.tcp_fastopen", "0x70403"},
	{"net.ipv4.tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4"},
	{"net.ipv4.tcp_syncookies", "1"},
}

// shell reads a backquoted shell line. What the runner understands — the
// usual preamble: sourcing defaults.sh, "sysctl [-q] [-w] name=value...",
// "echo V > /proc/sys/..." — becomes Sysctls; any other command makes the
// script unsupported.
func (s *Script) shell(line int, text string) {
	body := strings.Trim(strings.TrimSpace(text), "`")
	for _, cmd := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == ';' }) {
		cmd = strings.TrimSpace(cmd)
		for _, redirect := range []string{" > /dev/null 2>&1", " >/dev/null 2>&1", " 2>/dev/null", " > /dev/null", " >/dev/null"} {
			cmd = strings.TrimSuffix(cmd, redirect)
		}
		if cmd == "" || strings.HasPrefix(cmd, "#") {
			continue
		}
		if err := s.shellCommand(line, cmd); err != nil {
			s.Unsupported = append(s.Unsupported, Construct{line, err.Error()})
		}
	}
}

func (s *Script) shellCommand(line int, cmd string) error {
	f := shellWords(cmd)
	if len(f) == 0 {
		return nil
	}
	word := f[0]
	if (word == "source" || word == ".") && len(f) == 2 {
		word = f[1]
	}
	switch {
	case strings.HasSuffix(word, "/defaults.sh") || word == "defaults.sh":
		for _, kv := range defaultsSh {
			s.Sysctls = append(s.Sysctls, Sysctl{line, kv[0], kv[1]})
		}
		return nil
	case word == "sysctl":
		n := 0
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "-") {
				if a != "-q" && a != "-w" && a != "-e" && a != "-qw" {
					return fmt.Errorf("shell command %q (sysctl option %s)", shorten(cmd), a)
				}
				continue
			}
			name, val, ok := strings.Cut(a, "=")
			if !ok {
				return fmt.Errorf("shell command %q (a sysctl read, not a setting)", shorten(cmd))
			}
			s.Sysctls = append(s.Sysctls, Sysctl{line, strings.TrimSpace(name), strings.TrimSpace(val)})
			n++
		}
		if n == 0 {
			return fmt.Errorf("shell command %q", shorten(cmd))
		}
		return nil
	case word == "echo" && len(f) == 4 && f[2] == ">" && strings.HasPrefix(f[3], "/proc/sys/"):
		name := strings.ReplaceAll(strings.TrimPrefix(f[3], "/proc/sys/"), "/", ".")
		s.Sysctls = append(s.Sysctls, Sysctl{line, name, f[1]})
		return nil
	}
	return fmt.Errorf("shell command %q", shorten(cmd))
}

// shellWords splits a command into words, keeping "quoted text" (with
// $((a*b)) products of whole numbers worked out) as one word.
func shellWords(cmd string) []string {
	var out []string
	var cur strings.Builder
	quoted, any := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '"' || c == '\'':
			quoted, any = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if any {
				out = append(out, arith(cur.String()))
				cur.Reset()
				any = false
			}
		default:
			cur.WriteByte(c)
			any = true
		}
	}
	if any {
		out = append(out, arith(cur.String()))
	}
	return out
}

// arith replaces each $((a*b*...)) in w by its value, when every factor
// is a whole number; others are left as written.
func arith(w string) string {
	for {
		i := strings.Index(w, "$((")
		if i < 0 {
			return w
		}
		j := strings.Index(w[i:], "))")
		if j < 0 {
			return w
		}
		p := int64(1)
		for _, f := range strings.Split(w[i+3:i+j], "*") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 0, 64)
			if err != nil {
				return w
			}
			p *= n
		}
		w = w[:i] + strconv.FormatInt(p, 10) + w[i+j+2:]
	}
}
