package lab

import "syscall"

// errnoWords are Linux's words for the errors a run records, so that a
// record reads the same on every platform the lab runs on: syscall's own
// texts differ (js/wasm, where teardown web runs the lab, says
// "Connection reset by peer" and "errno 87").
var errnoWords = map[syscall.Errno]string{
	syscall.ECONNRESET:    "connection reset by peer",
	syscall.ECONNREFUSED:  "connection refused",
	syscall.EUSERS:        "too many users",
	syscall.ETIMEDOUT:     "connection timed out",
	syscall.EPIPE:         "broken pipe",
	syscall.ENOTCONN:      "transport endpoint is not connected",
	syscall.ECONNABORTED:  "software caused connection abort",
	syscall.EADDRINUSE:    "address already in use",
	syscall.EADDRNOTAVAIL: "cannot assign requested address",
	syscall.ENETUNREACH:   "network is unreachable",
	syscall.EHOSTUNREACH:  "no route to host",
	syscall.EMSGSIZE:      "message too long",
	syscall.EAGAIN:        "resource temporarily unavailable",
	syscall.EINVAL:        "invalid argument",
	syscall.EPROTO:        "protocol error",
	syscall.EISCONN:       "transport endpoint is already connected",
}

// errnoText is e in Linux's words (errnoWords), or as syscall says it.
func errnoText(e syscall.Errno) string {
	if s, ok := errnoWords[e]; ok {
		return s
	}
	return e.Error()
}
