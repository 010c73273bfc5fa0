module github.com/teardown-lab/teardown

go 1.26.0

require (
	github.com/vishvananda/netlink v1.3.1
	github.com/vishvananda/netns v0.0.5
	golang.org/x/sys v0.50.0
)

require go.uber.org/goleak v1.3.0

require (
	github.com/chromedp/chromedp v0.23.1
	golang.org/x/net v0.63.0
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)
