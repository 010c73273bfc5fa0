//go:build linux

package dccpprobe

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/internal/vm/kdccp"
)

// loopbackResult is what the loopback probe saw.
type loopbackResult struct {
	Sent     []string `json:"sent"`     // client → server, one packet each
	Received []string `json:"received"` // what each server read returned
	Reply    string   `json:"reply"`    // server → client
	Peer     string   `json:"peer"`     // the client's address as accept saw it
	MPS      int      `json:"mps"`      // the client's current maximum packet size
	TxCCID   int      `json:"tx_ccid"`
	RxCCID   int      `json:"rx_ccid"`
	EOF      bool     `json:"eof"` // the server read 0 after the client closed
	Err      string   `json:"err"`
}

const loopbackPort = 5001

// probeLoopback connects two kernel DCCP sockets over 127.0.0.1; ccid 0
// keeps the kernel's default.
func probeLoopback(service uint32, ccid uint8, timeout time.Duration) (res loopbackResult) {
	if err := loopback(service, ccid, timeout, &res); err != nil {
		res.Err = err.Error()
	}
	return res
}

func loopback(service uint32, ccid uint8, timeout time.Duration, res *loopbackResult) error {
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), loopbackPort+10+uint16(ccid))
	o := kdccp.Options{Service: service, CCID: ccid, Timeout: timeout}
	ln, err := kdccp.Listen(addr, o, 4)
	if err != nil {
		return err
	}
	defer ln.Close()
	cl, err := kdccp.Dial(addr, o)
	if err != nil {
		return err
	}
	defer cl.Close()
	srv, peer, err := ln.Accept()
	if err != nil {
		return err
	}
	defer srv.Close()
	res.Peer = peer.String()
	res.MPS, _ = cl.CurMPS()
	res.TxCCID, res.RxCCID, _ = cl.CCIDs()
	res.Sent = []string{"first", "the second datagram", "3"}
	for _, m := range res.Sent {
		if err := cl.Send([]byte(m)); err != nil {
			return err
		}
	}
	buf := make([]byte, 2048)
	for range res.Sent {
		n, err := srv.Recv(buf)
		if err != nil {
			return err
		}
		res.Received = append(res.Received, string(buf[:n]))
	}
	if err := srv.Send([]byte("reply")); err != nil {
		return err
	}
	n, err := cl.Recv(buf)
	if err != nil {
		return err
	}
	res.Reply = string(buf[:n])
	if err := cl.Close(); err != nil {
		return fmt.Errorf("client close: %w", err)
	}
	n, err = srv.Recv(buf)
	res.EOF = err == nil && n == 0
	return nil
}

// probeBadService dials the loopback listener with another service code.
func probeBadService(service uint32, timeout time.Duration) dialResult {
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), loopbackPort+1)
	ln, err := kdccp.Listen(addr, kdccp.Options{Service: service, Timeout: timeout}, 4)
	if err != nil {
		return dialResult{Err: err.Error()}
	}
	defer ln.Close()
	return dialExpectingFailure(addr, kdccp.Options{Service: service + 1, Timeout: timeout})
}

// probeNoListener dials a port where nothing listens.
func probeNoListener(service uint32, timeout time.Duration) dialResult {
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), loopbackPort+2)
	return dialExpectingFailure(addr, kdccp.Options{Service: service, Timeout: timeout})
}

func dialExpectingFailure(addr netip.AddrPort, o kdccp.Options) dialResult {
	c, err := kdccp.Dial(addr, o)
	if err == nil {
		c.Close()
		return dialResult{}
	}
	return dialResult{Errno: errnoName(err), Err: err.Error()}
}
