package main

import "testing"

func TestWeb_UsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "--port", "65536"}, "--port 65536: must be a whole number from 0 to 65535"},
		{[]string{"web", "--addr", "localhost"}, "--addr localhost: not an IP address"},
		{[]string{"web", "--export", "site", "--port", "9000"}, "--port applies only when serving"},
		{[]string{"web", "--export", "site", "--addr", "127.0.0.1"}, "--addr applies only when serving"},
		{[]string{"web", "--export", ""}, "--export : an empty value"},
		{[]string{"web", "extra"}, "web takes no arguments"},
	} {
		wantUsageError(t, "web", c.args, c.want)
	}
}
