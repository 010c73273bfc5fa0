#include "textflag.h"

// func sumAVX2(b []byte) uint64
//
// Zero-extends the 16-bit words of 64 bytes at a time into four
// accumulators of eight 32-bit lanes, then widens the lanes to 64 bits and
// adds them all. The one's-complement sum is this plain sum folded with
// end-around carry (RFC 1071 §2(C)), which the caller does.
TEXT ·sumAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	TESTQ CX, CX
	JZ    done

loop:
	VPMOVZXWD 0(SI), Y4
	VPMOVZXWD 16(SI), Y5
	VPMOVZXWD 32(SI), Y6
	VPMOVZXWD 48(SI), Y7
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	VPADDD    Y6, Y2, Y2
	VPADDD    Y7, Y3, Y3
	ADDQ      $64, SI
	SUBQ      $64, CX
	JNZ       loop

done:
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPMOVZXDQ    X0, Y4
	VEXTRACTI128 $1, Y0, X0
	VPMOVZXDQ    X0, Y5
	VPMOVZXDQ    X2, Y6
	VEXTRACTI128 $1, Y2, X2
	VPMOVZXDQ    X2, Y7
	VPADDQ       Y5, Y4, Y4
	VPADDQ       Y7, Y6, Y6
	VPADDQ       Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDQ       X5, X4, X4
	VPSHUFD      $0x4e, X4, X5
	VPADDQ       X5, X4, X4
	VMOVQ        X4, AX
	VZEROUPPER
	MOVQ         AX, ret+24(FP)
	RET

// func copySumAVX2(dst, src []byte) uint64
//
// Loads 64 bytes at a time, stores them to dst and adds their 16-bit
// words, split from the loaded registers (low half of each 32-bit lane by
// a mask, high half by a shift), into four accumulators of eight 32-bit
// lanes; then widens and adds the lanes as sumAVX2 does.
TEXT ·copySumAVX2(SB), NOSPLIT, $0-56
	MOVQ     dst_base+0(FP), DI
	MOVQ     src_base+24(FP), SI
	MOVQ     src_len+32(FP), CX
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1
	VPXOR    Y2, Y2, Y2
	VPXOR    Y3, Y3, Y3
	VPCMPEQD Y15, Y15, Y15
	VPSRLD   $16, Y15, Y15
	TESTQ    CX, CX
	JZ       cdone

cloop:
	VMOVDQU 0(SI), Y4
	VMOVDQU 32(SI), Y5
	VMOVDQU Y4, 0(DI)
	VMOVDQU Y5, 32(DI)
	VPAND   Y15, Y4, Y6
	VPSRLD  $16, Y4, Y4
	VPAND   Y15, Y5, Y7
	VPSRLD  $16, Y5, Y5
	VPADDD  Y6, Y0, Y0
	VPADDD  Y4, Y1, Y1
	VPADDD  Y7, Y2, Y2
	VPADDD  Y5, Y3, Y3
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $64, CX
	JNZ     cloop

cdone:
	VPADDD       Y1, Y0, Y0
	VPADDD       Y3, Y2, Y2
	VPMOVZXDQ    X0, Y4
	VEXTRACTI128 $1, Y0, X0
	VPMOVZXDQ    X0, Y5
	VPMOVZXDQ    X2, Y6
	VEXTRACTI128 $1, Y2, X2
	VPMOVZXDQ    X2, Y7
	VPADDQ       Y5, Y4, Y4
	VPADDQ       Y7, Y6, Y6
	VPADDQ       Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDQ       X5, X4, X4
	VPSHUFD      $0x4e, X4, X5
	VPADDQ       X5, X4, X4
	VMOVQ        X4, AX
	VZEROUPPER
	MOVQ         AX, ret+48(FP)
	RET
