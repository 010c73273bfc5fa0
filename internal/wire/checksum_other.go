//go:build !amd64

package wire

// Other architectures use the portable loop only.
var useAVX2 = false

const avx2Chunk = 1 << 20

func sumAVX2([]byte) uint64 { panic("wire: sumAVX2 on a CPU without AVX2") }

func copySumAVX2(_, _ []byte) uint64 { panic("wire: copySumAVX2 on a CPU without AVX2") }
