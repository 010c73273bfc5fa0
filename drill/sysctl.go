package drill

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// simConfig is what a script's sysctls mean for our stack: its TCP
// options, its profile and its listeners' options. The settings without
// a counterpart are listed in notApplied (name=value), for the report.
type simConfig struct {
	tcp        stack.TCPOptions
	profile    profile.Profile
	listen     stack.ListenOptions
	notApplied []string
}

// simConfigFor translates the script's sysctls, the last setting of a
// name winning as in a shell. p is the profile before them.
func simConfigFor(s *Script, p profile.Profile) simConfig {
	c := simConfig{profile: p}
	last := map[string]int{}
	for i, sc := range s.Sysctls {
		last[sc.Name] = i
	}
	for i, sc := range s.Sysctls {
		if last[sc.Name] != i {
			continue
		}
		if !c.apply(sc.Name, sc.Value) {
			c.notApplied = append(c.notApplied, sc.Name+"="+sc.Value)
		}
	}
	return c
}

// apply sets one sysctl; false when it has no meaning here (or a value
// the stack cannot take).
func (c *simConfig) apply(name, val string) bool {
	n, numErr := strconv.ParseInt(val, 0, 64)
	flag := func(set func(on bool)) bool {
		if numErr != nil || n < 0 || n > 1 {
			return false
		}
		set(n == 1)
		return true
	}
	switch name {
	case "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem":
		// min default max: the default is what a socket starts with; the
		// maximum of tcp_rmem is what Linux's window scale covers.
		f := strings.Fields(val)
		if len(f) != 3 {
			return false
		}
		def, err := strconv.Atoi(f[1])
		most, err2 := strconv.Atoi(f[2])
		if err != nil || err2 != nil || def <= 0 || most < def {
			return false
		}
		if name == "net.ipv4.tcp_rmem" {
			c.tcp.ReceiveBuffer, c.tcp.MaxReceiveBuffer = def, most
		} else {
			c.tcp.SendBuffer = def
		}
		return true
	case "net.ipv4.tcp_timestamps":
		return flag(func(on bool) { c.tcp.NoTimestamps = !on })
	case "net.ipv4.tcp_sack":
		return flag(func(on bool) { c.tcp.NoSACK = !on })
	case "net.ipv4.tcp_window_scaling":
		return flag(func(on bool) { c.tcp.NoWindowScaling = !on })
	case "net.ipv4.tcp_syncookies": // 2 (always send cookies) is not modelled
		return flag(func(on bool) { c.listen.NoSYNCookies = !on })
	case "net.ipv4.tcp_abort_on_overflow":
		return flag(func(on bool) { c.listen.AbortOnOverflow = on })
	case "net.ipv4.tcp_rfc1337":
		return flag(func(on bool) { c.profile.IgnoreRSTInTimeWait = on })
	case "net.ipv4.tcp_syn_retries":
		if numErr != nil || n < 1 || n > 127 {
			return false
		}
		c.tcp.SYNRetries = int(n)
		return true
	case "net.ipv4.tcp_congestion_control":
		cc, ok := map[string]string{"cubic": "cubic", "reno": "newreno"}[val]
		c.tcp.CongestionControl = cc
		return ok
	}
	return false
}

// notAppliedNote is the report's line for sysctls that were not applied.
func notAppliedNote(where string, list []string) string {
	if len(list) == 0 {
		return ""
	}
	return fmt.Sprintf("sysctls not applied %s: %s", where, strings.Join(list, ", "))
}
