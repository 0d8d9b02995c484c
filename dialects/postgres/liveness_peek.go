//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package postgres

import (
	"errors"
	"net"
	"syscall"
)

// peekSocket looks at c's socket with recv(MSG_PEEK) on the descriptor,
// which the Go runtime keeps non-blocking: nothing is consumed, and an
// empty socket answers EAGAIN at once.
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
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
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
		return true // never wait for the socket to become readable
	})
	if err != nil {
		return socketClosed
	}
	return state
}
