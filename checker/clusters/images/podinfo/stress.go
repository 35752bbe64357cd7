package main

import "sync/atomic"

// sink receives the busy loops' result, so the compiler cannot drop their work.
var sink atomic.Uint64

// held keeps the memory of --stress-memory reachable for the life of the process.
var held [][]byte

const (
	megabyte = 1 << 20
	pageSize = 4096
)

// stressMemory allocates mb megabytes in 1 MiB pieces and writes into every page of them,
// so that they are resident (counted by the kernel against the container's memory limit),
// not just reserved. The caller holds the result.
func stressMemory(mb int) [][]byte {
	pieces := make([][]byte, mb)
	for i := range pieces {
		piece := make([]byte, megabyte)
		for offset := 0; offset < len(piece); offset += pageSize {
			piece[offset] = byte(offset/pageSize) | 1
		}
		pieces[i] = piece
	}
	return pieces
}

// stressCPU starts n goroutines that compute without pause, each enough for a core, until
// stop is closed (never, when stop is nil). The Go runtime preempts them, so the server
// keeps answering.
func stressCPU(n int, stop <-chan struct{}) {
	for range n {
		go func() {
			x := uint64(1)
			for {
				for range 1 << 16 {
					x = x*6364136223846793005 + 1442695040888963407
				}
				select {
				case <-stop:
					sink.Store(x)
					return
				default:
				}
			}
		}()
	}
}
