module github.com/teardown-lab/teardown/bench

go 1.26.3

require (
	github.com/teardown-lab/teardown v0.0.0
	github.com/vishvananda/netlink v1.3.1
)

require github.com/vishvananda/netns v0.0.5 // indirect

require (
	github.com/vishvananda/netlink v1.3.1 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
)

require (
	github.com/google/btree v1.1.2 // indirect
	golang.org/x/exp v0.0.0-20250711185948-6ae5c78190dc // indirect
	golang.org/x/sys v0.50.0
	golang.org/x/time v0.15.0 // indirect
	gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237
)

replace github.com/teardown-lab/teardown => ../
