package rtsp

import (
	"net/url"

	"vigil/internal/media/rtpdec"
)

// Event kinds: faults of a camera the client noticed and handled. Each is
// reported once when it happens (never per packet): logged through
// ClientOptions.Log and passed to ClientOptions.OnEvent.
const (
	EventTimestampJump = rtpdec.EventTimestampJump // RTP time jumped: re-anchored on arrival time
	EventClockRate     = rtpdec.EventClockRate     // the SDP's clock rate was wrong: corrected
	EventSSRC          = rtpdec.EventSSRC          // the camera changed SSRC: followed
	EventFallback      = "transport_fallback"      // UDP gave nothing: falling back to TCP
	EventAuthRetry     = "auth_retry"              // 401 (stale nonce) to a keep-alive: retried
	EventBadHeader     = "bad_header_lines"        // malformed header lines skipped
)

// Event is a camera fault the client handled.
type Event struct {
	Kind   string
	Detail string
}

// event logs e and hands it to opts.OnEvent.
func (o *ClientOptions) event(u *url.URL, kind, detail string) {
	if o.Log != nil {
		o.Log.Warn("rtsp: camera fault handled", "url", redact(u), "kind", kind, "detail", detail)
	}
	if o.OnEvent != nil {
		o.OnEvent(Event{Kind: kind, Detail: detail})
	}
}
