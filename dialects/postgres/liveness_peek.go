//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package postgres

import (
	"errors"
	"net"
	"syscall"
)

// peekSocket looks at c's socket with recv(MSG_PEEK|MSG_DONTWAIT): nothing
// is consumed, and an empty socket answers EAGAIN at once.
//
// It runs under RawConn.Control, which takes none of the descriptor's
// locks. RawConn.Read would take its read lock, and pgconn may have left a
// background reader parked in a read of this socket after a slow write (it
// stops only when the next bytes arrive): Read would then wait for that
// reader, for as long as the connection stays idle. A parked reader only
// waits; the peek beside it sees what it would.
func peekSocket(c net.Conn) socketState {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return socketUnknown
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return socketUnknown
	}
	state := socketUnknown
	var buf [1]byte
	err = rc.Control(func(fd uintptr) {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK):
			state = socketQuietState
		case errors.Is(rerr, syscall.EINTR):
			state = socketUnknown
		case rerr != nil || n == 0:
			state = socketClosed
		default:
			state = socketReadable
		}
	})
	if err != nil {
		return socketClosed
	}
	return state
}
