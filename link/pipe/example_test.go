package pipe_test

import (
	"fmt"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
)

// A pipe delivers synchronously: the receiver runs inside WritePackets.
func Example() {
	a, b := pipe.New(1500)
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			fmt.Printf("b got %q\n", p) // copy p to keep it
		}
	}))
	n, err := a.WritePackets([][]byte{[]byte("hello"), []byte("world")})
	fmt.Println(n, err)
	// Output:
	// b got "hello"
	// b got "world"
	// 2 <nil>
}
