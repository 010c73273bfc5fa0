package main

import "testing"

// The live-service flags follow the CLI's convention: checked values, and
// refused where they do not apply (the simulator has no real clients).
func TestServeFlags_LiveServiceFlagsCheckedAndRefusedOnSim(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "echo", "--link", "tun", "--max-conns", "0"}, "--max-conns 0: must be a whole number from 1 to"},
		{[]string{"serve", "echo", "--link", "tun", "--idle-timeout", "-1"}, "--idle-timeout -1: must be a whole number from 0"},
		{[]string{"serve", "echo", "--link", "tun", "--keepalive", "yes"}, "--keepalive yes: want one of on, off"},
		{[]string{"serve", "echo", "--max-conns", "5"}, "--max-conns applies only with --link tun or udp"},
		{[]string{"serve", "echo", "--trace"}, "--trace applies only with --link tun or udp"},
		{[]string{"dial", "echo", "--idle-timeout", "5"}, "--idle-timeout applies only with --link tun or udp"},
		{[]string{"dial", "echo", "--retries", "5"}, "--retries applies only with --link tun or udp"},
		{[]string{"dial", "echo", "--link", "tun", "--max-conns", "5"}, "unknown flag --max-conns for dial"},
		{[]string{"serve", "echo", "--link", "tun", "--retries", "5"}, "unknown flag --retries for serve"},
		{[]string{"serve", "echo", "--proto", "dccp", "--link", "udp", "--keepalive", "off"}, "--keepalive applies only to TCP over --link tun"},
	} {
		wantUsageError(t, c.args[0], c.args, c.want)
	}
}
