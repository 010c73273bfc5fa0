package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// net/http runs unchanged over the stack on a lossy simulated network:
// testing/synctest tells the simulation when every goroutine (net/http's
// own included) is waiting, so the run takes milliseconds of real time.
func TestNetHTTPOverLossyNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := netsim.New(11)
		ch, sh := sim.AddHost("client", clientAddr), sim.AddHost("server", serverAddr)
		sim.Connect(ch, sh, netsim.LinkConfig{Latency: 5 * time.Millisecond, Bandwidth: 100e6, Loss: 0.02, Reorder: 0.01, ReorderDelay: 2 * time.Millisecond})
		r := simrun.New(sim)
		mk := func(h *netsim.Host, a netip.Addr, seed uint64) *stack.Stack {
			s, err := stack.New(stack.Config{Addrs: []netip.Addr{a}, Link: r.Endpoint(h), Clock: r.Clock(), Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		cs, ss := mk(ch, clientAddr, 1), mk(sh, serverAddr, 2)
		l, err := ss.ListenTCP(80, stack.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			n, _ := strconv.Atoi(req.URL.Query().Get("n"))
			body, _ := io.ReadAll(req.Body)
			w.Header().Set("X-Got", strconv.Itoa(len(body)))
			w.Write(pattern(uint64(n), n))
		})}
		go srv.Serve(l)
		var dials int
		tr := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			dials++
			ap, err := netip.ParseAddrPort(addr)
			if err != nil {
				return nil, err
			}
			return cs.DialTCP(ctx, ap)
		}}
		client := &http.Client{Transport: tr}
		done := false
		var results []error
		go func() {
			defer func() { done = true }()
			for i, n := range []int{1000, 300_000, 1 << 20, 5, 2 << 20} {
				up := pattern(uint64(i+50), n/2)
				resp, err := client.Post(fmt.Sprintf("http://%s/?n=%d", serverAddr, n), "application/octet-stream", bytes.NewReader(up))
				if err != nil {
					results = append(results, err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					results = append(results, err)
				case !bytes.Equal(body, pattern(uint64(n), n)):
					results = append(results, fmt.Errorf("request %d: body of %d bytes differs", i, len(body)))
				case resp.Header.Get("X-Got") != strconv.Itoa(len(up)):
					results = append(results, fmt.Errorf("request %d: server got %s bytes, sent %d", i, resp.Header.Get("X-Got"), len(up)))
				default:
					results = append(results, nil)
				}
			}
		}()
		if err := r.Drive(synctest.Wait, func() bool { return done }); err != nil {
			t.Fatal(err)
		}
		for i, err := range results {
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
		}
		if len(results) != 5 {
			t.Fatalf("%d of 5 requests completed", len(results))
		}
		if dials != 1 {
			t.Errorf("the transport dialled %d times; want 1 (keep-alive reuses the connection)", dials)
		}
		tr.CloseIdleConnections()
		srv.Close()
		cs.Close()
		ss.Close()
		// Let the closes play out so no goroutine of the bubble is left.
		r.Drive(synctest.Wait, func() bool { return r.Sim().NextEvent().IsZero() })
	})
}
