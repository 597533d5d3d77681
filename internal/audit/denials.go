package audit

import (
	"context"
	"sync/atomic"
)

// A request's denial tracker tells the code that answers a refusal (the
// HTTP problem writer) whether a domain already audited it — the gate, the
// retention engine and sign-in audit their own denials — so that every
// denial gets exactly one entry (AUD-4).

type denialKey struct{}

type denialMark struct{ n atomic.Int64 }

// TrackDenials returns a context that records the denials appended to the
// log under it (entries with Outcome Denied).
func TrackDenials(ctx context.Context) context.Context {
	return context.WithValue(ctx, denialKey{}, &denialMark{})
}

// DenialAudited reports whether a denial was appended under ctx (see
// TrackDenials).
func DenialAudited(ctx context.Context) bool {
	m, _ := ctx.Value(denialKey{}).(*denialMark)
	return m != nil && m.n.Load() > 0
}

func markDenial(ctx context.Context, e Entry) {
	if e.Outcome != Denied {
		return
	}
	if m, _ := ctx.Value(denialKey{}).(*denialMark); m != nil {
		m.n.Add(1)
	}
}
