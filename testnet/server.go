package testnet

import (
	"fmt"
	"net/http"
	"net/http/httptest"
)

// NewServer starts an HTTP server for handler on port 80 of a new host
// ("server", or "server2" and so on if taken), like httptest.NewServer:
// its Client() dials through the network from the host named "client"
// (made if the test has none), and Close is called by the test's
// cleanup. URL holds the server's IPv4 address.
func (n *Network) NewServer(handler http.Handler) *httptest.Server {
	n.t.Helper()
	name := "server"
	for i := 2; n.lookup(name) != nil; i++ {
		name = fmt.Sprintf("server%d", i)
	}
	return n.Host(name).NewServer(handler)
}

// NewServer starts an HTTP server for handler on port 80 of h; see
// Network.NewServer.
func (h *Host) NewServer(handler http.Handler) *httptest.Server {
	n := h.n
	n.t.Helper()
	ln, err := h.Listen("tcp", ":80")
	if err != nil {
		n.t.Fatalf("testnet: NewServer: %v", err)
	}
	s := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	s.Start()
	client := n.lookup("client")
	if client == nil {
		client = n.Host("client")
	}
	// Start made a Transport that dials the machine's network: point it
	// at ours.
	s.Client().Transport.(*http.Transport).DialContext = client.DialContext
	n.t.Cleanup(s.Close)
	return s
}
