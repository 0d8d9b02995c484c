//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package postgres

import "net"

// peekSocket cannot peek on this platform: every checkout is pinged, as
// Prefect's pool_pre_ping does.
func peekSocket(net.Conn) socketState { return socketUnknown }
