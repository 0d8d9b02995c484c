package postgres

// This file decides when the pool pings a connection before handing it out.
// Prefect's engine pings every checkout (pool_pre_ping), which costs a
// round trip, and a transaction on the server, per operation. prefectdb
// keeps the guarantee, that no operation gets a connection the server has
// closed, at the price of a system call: the connection's socket is peeked
// without reading, and only a connection whose socket is not quiet, or
// that sat idle long enough for the network to have lost it silently, is
// pinged.

import (
	"context"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pingAfterIdle is the idle time after which a connection is pinged however
// quiet its socket is: a peer that vanished without closing the connection
// (a failover that moved its address, a firewall that dropped the flow)
// shows only when something is written. It is pgxpool's own default.
const pingAfterIdle = time.Second

// shouldPing is the pool's ShouldPing: ping when the connection was idle for
// pingAfterIdle or more, or when its socket is not quiet. A server that
// ended the connection (a restart, pg_terminate_backend, an idle-session
// timeout) has sent its error and closed the socket, which the peek sees;
// any other message that arrived while the connection was idle (a notice,
// a parameter change) also makes it ping, and the ping reads it.
func shouldPing(_ context.Context, p pgxpool.ShouldPingParams) bool {
	if p.IdleDuration >= pingAfterIdle || p.Conn == nil || p.Conn.IsClosed() {
		return true
	}
	return !socketQuiet(p.Conn.PgConn().Conn())
}

// socketQuiet reports whether c's socket is open with nothing to read,
// without reading anything. False when it cannot tell (see peekSocket).
func socketQuiet(c net.Conn) bool {
	// A TLS connection's records are on the socket below it: a server's
	// close or error shows there as bytes to read.
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = u.NetConn()
	}
	return peekSocket(c) == socketQuietState
}

// socketState is what a peek at a socket found.
type socketState int

const (
	// socketUnknown: the peek could not be made (not a socket, or a
	// platform without it); the connection is pinged.
	socketUnknown socketState = iota
	// socketQuietState: open, nothing to read.
	socketQuietState
	// socketReadable: bytes are waiting (a message from the server).
	socketReadable
	// socketClosed: the peer closed the connection, or the socket failed.
	socketClosed
)
