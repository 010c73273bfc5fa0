package lab

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// App is an application pair of the seeds: a server and the client that
// talks to it. The lab's scenarios run them on the simulator; Serve and
// Dial run one side against a real peer.
type App struct {
	// Name is "echo", "echo-one", "primes" or "discard".
	Name string
	// Port is the default port.
	Port uint16
	// Summary says what the pair does.
	Summary string
	// Server serves one accepted connection and closes it as the variant
	// says (see CloseVariants).
	Server func(c *Conn, variant string)
	// Client talks to the server over c and closes it.
	Client func(c *Conn, variant string)
}

// CloseVariants are the ways a TCP application closes, shared by every
// app: naive close(), shutdown(write) then close(), and the lingering
// close (shutdown(write), read and discard until the peer's FIN or a
// timeout, then close()).
var CloseVariants = []string{"naive", "shutdown", "linger"}

// lingerTimeout bounds the lingering close's draining reads.
const lingerTimeout = 2 * time.Second

// recvSize is what an application's recv asks for when it reads
// whatever came: more than any scenario's message, so one recv takes a
// whole segment or datagram.
const recvSize = 512

// thinkTime is how long a client works between sending its request and
// reading the answer: long enough for everything the server sends at once
// (reply, FIN, RST) to have arrived, as with the seed's clients.
const thinkTime = 10 * time.Millisecond

// closeAs closes c the way variant says.
func closeAs(c *Conn, variant string) {
	switch variant {
	case "shutdown":
		c.Shutdown()
		c.Close()
	case "linger":
		if c.d == nil { // DCCP has no half-close: drain, then close
			c.Shutdown()
		}
		for {
			if _, err := c.RecvTimeout(recvSize, lingerTimeout); err != nil {
				break
			}
		}
		c.Close()
	case "abort":
		c.Abort()
	default:
		c.Close()
	}
}

// readAll reads until EOF or an error and returns the error (io.EOF at a
// clean end).
func readAll(c *Conn, n int) error {
	for {
		if _, err := c.Recv(n); err != nil {
			return err
		}
	}
}

// recvFull reads exactly n bytes, in as many recv calls as it takes.
func recvFull(c *Conn, n int) (string, error) {
	var b strings.Builder
	for b.Len() < n {
		s, err := c.Recv(n - b.Len())
		b.WriteString(s)
		if err != nil {
			return b.String(), err
		}
	}
	return b.String(), nil
}

// Apps are the applications serve and dial know, by name.
var Apps = map[string]*App{
	"echo-one": {Name: "echo-one", Port: 7, Summary: "the server reads one byte, writes it back and closes",
		Server: echoOneServer, Client: helloClient},
	"echo": {Name: "echo", Port: 7, Summary: "the server echoes until the client's FIN, then closes",
		Server: echoServer, Client: helloClient},
	"primes": {Name: "primes", Port: 5000, Summary: "the client sends five numbers, the server answers OK or ERROR at the first non-prime",
		Server: primesServer, Client: primesClient([]int{3, 4, 5, 7, 11})},
	"discard": {Name: "discard", Port: 9, Summary: "the server reads and discards until the client's FIN, then closes",
		Server: discardServer, Client: sendCloseClient},
}

// AppNames returns the app names, sorted.
func AppNames() []string { return []string{"discard", "echo", "echo-one", "primes"} }

// echoOneServer is the seed's modified echo server: read one byte, write
// it back, close.
func echoOneServer(c *Conn, variant string) {
	if b, err := c.Recv(1); err == nil {
		c.Send(b)
	}
	closeAs(c, variant)
}

// echoServer echoes until end-of-stream or an error.
func echoServer(c *Conn, variant string) {
	for {
		b, err := c.Recv(recvSize)
		if err != nil {
			break
		}
		if c.Send(b) != nil {
			break
		}
	}
	closeAs(c, variant)
}

// discardServer reads until end-of-stream or an error.
func discardServer(c *Conn, variant string) {
	readAll(c, recvSize)
	closeAs(c, variant)
}

// helloClient sends "hello", waits a moment, reads until EOF or an error
// and closes.
func helloClient(c *Conn, _ string) {
	c.Send("hello")
	c.h.Sleep(thinkTime)
	readAll(c, 64)
	c.Close()
}

// sendCloseClient sends a message and closes at once, as a client that
// does not wait for the server's answer.
func sendCloseClient(c *Conn, _ string) {
	c.Send("hello, discard")
	c.Close()
}

// primeRecord is how a number crosses the wire: fixed width, so that the
// server can read exactly one number per recv.
const primeRecord = 4

func formatPrime(n int) string { return fmt.Sprintf("%03d\n", n) }

// primesClient sends the numbers, one send each, then waits for the
// verdict and reads until EOF or an error.
func primesClient(nums []int) func(c *Conn, variant string) {
	return func(c *Conn, _ string) {
		for _, n := range nums {
			if c.Send(formatPrime(n)) != nil {
				break
			}
		}
		c.h.Sleep(thinkTime)
		readAll(c, 64)
		c.Close()
	}
}

// primesServer reads five numbers one at a time; at the first non-prime it
// answers "ERROR" and closes, after five primes "OK".
func primesServer(c *Conn, variant string) {
	for range 5 {
		rec, err := recvFull(c, primeRecord)
		if err != nil {
			closeAs(c, variant)
			return
		}
		n, perr := strconv.Atoi(strings.TrimSpace(rec))
		if perr != nil || !isPrime(n) {
			c.Send("ERROR\n")
			closeAs(c, variant)
			return
		}
	}
	c.Send("OK\n")
	closeAs(c, variant)
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// errNoApp is returned for an unknown app name.
var errNoApp = errors.New("unknown app")

// LookupApp returns the named app; an unknown name lists the known ones.
func LookupApp(name string) (*App, error) {
	a, ok := Apps[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (apps: %s)", errNoApp, name, strings.Join(AppNames(), ", "))
	}
	return a, nil
}
