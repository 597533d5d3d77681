package rtsp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
)

// Error classes. Every error the client returns wraps one of them, so a
// caller can tell a wrong password from a dead camera with errors.Is.
var (
	ErrAuth      = errors.New("rtsp: authentication failed")
	ErrTimeout   = errors.New("rtsp: timeout")
	ErrProtocol  = errors.New("rtsp: protocol error")
	ErrNotFound  = errors.New("rtsp: stream not found")
	ErrTransport = errors.New("rtsp: no usable transport")
	ErrConnect   = errors.New("rtsp: connection failed")
	ErrStatus    = errors.New("rtsp: unexpected status")
)

// StatusError is a non-2xx answer to a request.
type StatusError struct {
	Method string
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Method, e.Code, e.Reason)
}

// Unwrap classifies the status.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case StatusUnauthorized, StatusForbidden:
		return ErrAuth
	case StatusNotFound:
		return ErrNotFound
	case StatusUnsupportedTransport:
		return ErrTransport
	}
	return ErrStatus
}

// Stats counts what a client or supervisor saw. Fields are updated
// atomically; read them with Snapshot.
type Stats struct {
	Connects    atomic.Int64 // sessions that reached PLAY
	Reconnects  atomic.Int64 // attempts after the first
	Fallbacks   atomic.Int64 // UDP → TCP fallbacks
	Redirects   atomic.Int64
	ErrAuth     atomic.Int64
	ErrTimeout  atomic.Int64
	ErrProtocol atomic.Int64
	ErrNotFound atomic.Int64
	ErrConnect  atomic.Int64
	ErrOther    atomic.Int64
	Units       atomic.Int64 // access units delivered
	Packets     atomic.Int64 // RTP packets received
	Bytes       atomic.Int64 // RTP payload bytes received
	Discarded   atomic.Int64 // packets dropped as garbage, foreign SSRC or payload type

	// Faults seen and handled (MED-1, MED-4). The receiver counters are
	// brought up to date about once a second and when a session ends.
	PacketsLost      atomic.Int64 // RTP packets never received
	FramesDropped    atomic.Int64 // units that could not be passed on at all
	FramesDamaged    atomic.Int64 // units passed on with a part missing
	TimestampJumps   atomic.Int64 // RTP time jumps re-anchored
	ClockCorrections atomic.Int64 // wrong SDP clock rates corrected
	SSRCChanges      atomic.Int64 // SSRC changes followed
	BadHeaderLines   atomic.Int64 // malformed header lines skipped
	AuthRetries      atomic.Int64 // 401 answers to keep-alives, retried with the new nonce
}

// StatsSnapshot is a copy of Stats.
type StatsSnapshot struct {
	Connects, Reconnects, Fallbacks, Redirects                          int64
	ErrAuth, ErrTimeout, ErrProtocol, ErrNotFound, ErrConnect, ErrOther int64
	Units, Packets, Bytes, Discarded                                    int64
	PacketsLost, FramesDropped, FramesDamaged                           int64
	TimestampJumps, ClockCorrections, SSRCChanges                       int64
	BadHeaderLines, AuthRetries                                         int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Connects: s.Connects.Load(), Reconnects: s.Reconnects.Load(),
		Fallbacks: s.Fallbacks.Load(), Redirects: s.Redirects.Load(),
		ErrAuth: s.ErrAuth.Load(), ErrTimeout: s.ErrTimeout.Load(),
		ErrProtocol: s.ErrProtocol.Load(), ErrNotFound: s.ErrNotFound.Load(),
		ErrConnect: s.ErrConnect.Load(), ErrOther: s.ErrOther.Load(),
		Units: s.Units.Load(), Packets: s.Packets.Load(), Bytes: s.Bytes.Load(),
		Discarded:   s.Discarded.Load(),
		PacketsLost: s.PacketsLost.Load(), FramesDropped: s.FramesDropped.Load(), FramesDamaged: s.FramesDamaged.Load(),
		TimestampJumps: s.TimestampJumps.Load(), ClockCorrections: s.ClockCorrections.Load(), SSRCChanges: s.SSRCChanges.Load(),
		BadHeaderLines: s.BadHeaderLines.Load(), AuthRetries: s.AuthRetries.Load(),
	}
}

// count classifies err and bumps its counter. It returns err classified:
// network timeouts are wrapped in ErrTimeout.
func (s *Stats) count(err error) error {
	if err == nil || s == nil {
		return classify(err)
	}
	err = classify(err)
	switch {
	case errors.Is(err, context.Canceled):
	case errors.Is(err, ErrAuth):
		s.ErrAuth.Add(1)
	case errors.Is(err, ErrTimeout):
		s.ErrTimeout.Add(1)
	case errors.Is(err, ErrProtocol):
		s.ErrProtocol.Add(1)
	case errors.Is(err, ErrNotFound):
		s.ErrNotFound.Add(1)
	case errors.Is(err, ErrConnect):
		s.ErrConnect.Add(1)
	default:
		s.ErrOther.Add(1)
	}
	return err
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTimeout) {
		return err
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}
