module github.com/teardown-lab/teardown

go 1.26.0

require (
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/sys v0.50.0
)

require go.uber.org/goleak v1.3.0

require golang.org/x/net v0.63.0
