package retention

import (
	"context"
	"fmt"
	"time"

	"vigil/internal/audit"
	"vigil/internal/record"
	"vigil/internal/store"
)

// RunReport is what one pass of the engine did.
type RunReport struct {
	Deleted      int   `json:"deleted"`
	DeletedBytes int64 `json:"deleted_bytes"`
	Held         int   `json:"held"` // expired segments kept by an evidence hold
	Errors       int   `json:"errors"`
}

// Run deletes every expired, unheld segment of every recorded camera.
// It is the only deleter of footage (RET-4).
func (e *Engine) Run(ctx context.Context) (RunReport, error) {
	var rep RunReport
	cams, err := e.index.Cameras(ctx)
	if err != nil {
		return rep, err
	}
	for _, cam := range cams {
		if err := e.runCamera(ctx, cam, &rep); err != nil {
			rep.Errors++
			e.log.Error("retention: camera pass failed", "camera", cam, "err", err)
		}
	}
	return rep, nil
}

func (e *Engine) runCamera(ctx context.Context, cam string, rep *RunReport) error {
	r, err := e.Retention(ctx, cam)
	if err != nil {
		return err
	}
	now := e.now()
	e.sweep(ctx, cam, now)
	cutoff := now.AddDate(0, 0, -r.Days)
	due, err := e.index.Expired(ctx, cam, cutoff)
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	holds, err := e.Holds(ctx, cam, false)
	if err != nil {
		return err
	}
	var keptSeqs []int64
	keptBy := map[string]bool{}
	for _, x := range due {
		if h := holding(holds, x, now); h != "" {
			keptSeqs = append(keptSeqs, x.Seq)
			keptBy[h] = true
			continue
		}
		if err := e.delete(ctx, cam, x, r.Days, cutoff); err != nil {
			rep.Errors++
			e.log.Error("retention: delete segment", "camera", cam, "seq", x.Seq, "err", err)
			continue
		}
		rep.Deleted++
		rep.DeletedBytes += x.Bytes
	}
	if len(keptSeqs) > 0 {
		rep.Held += len(keptSeqs)
		ids := make([]string, 0, len(keptBy))
		for id := range keptBy {
			ids = append(ids, id)
		}
		_, err := e.audit.Append(ctx, audit.Entry{Actor: audit.System, Action: "retention.held", Object: "camera:" + cam, Outcome: audit.OK,
			Details: map[string]any{"seqs": keptSeqs, "holds": ids, "retention_days": r.Days}})
		if err != nil {
			return fmt.Errorf("audit kept segments: %w", err)
		}
	}
	return nil
}

// holding returns the id of a hold in force over x, or "".
func holding(holds []Hold, x record.Segment, now time.Time) string {
	for _, h := range holds {
		if !now.Before(h.Until) {
			continue
		}
		if h.Start.Before(x.End) && h.End.After(x.Start) {
			return h.ID
		}
	}
	return ""
}

// delete has the index mark the row deleted and audits it in one
// transaction, then removes the object. A crash between the two leaves an
// object whose row says deleted; the next pass removes it again (deleting
// is idempotent).
func (e *Engine) delete(ctx context.Context, cam string, x record.Segment, days int, cutoff time.Time) error {
	_, err := e.index.Expire(ctx, cam, x.Seq, e.now(), func(tx *store.Tx) error {
		_, err := e.audit.AppendTx(ctx, tx, audit.Entry{Actor: audit.System, Action: "retention.delete", Object: "camera:" + cam, Outcome: audit.OK,
			Details: map[string]any{"seq": x.Seq, "key": x.Key, "hash": x.Hash, "start": timeText(x.Start),
				"end": timeText(x.End), "bytes": x.Bytes, "retention_days": days, "cutoff": timeText(cutoff)}})
		return err
	})
	if err != nil {
		return err
	}
	return e.store.Delete(ctx, x.Key)
}

// sweep removes the objects of rows deleted in the last week whose object
// is still there (a crash between marking and removing).
func (e *Engine) sweep(ctx context.Context, cam string, now time.Time) {
	keys, err := e.index.DeletedSince(ctx, cam, now.AddDate(0, 0, -7))
	if err != nil {
		return
	}
	for _, k := range keys {
		if _, err := e.store.Stat(ctx, k); err == nil {
			if err := e.store.Delete(ctx, k); err != nil {
				e.log.Error("retention: remove a deleted segment's object", "key", k, "err", err)
			}
		}
	}
}

// Loop runs the engine every interval (default 10 min) until ctx ends:
// a deletion pass, then the capacity forecast, whose state it keeps for
// health (LastForecast).
func (e *Engine) Loop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := e.Run(ctx)
		if err != nil {
			e.log.Error("retention: pass failed", "err", err)
		} else if rep.Deleted > 0 || rep.Errors > 0 {
			e.log.Info("retention: pass", "deleted", rep.Deleted, "bytes", rep.DeletedBytes, "held", rep.Held, "errors", rep.Errors)
		}
		if f, err := e.Forecast(ctx); err == nil {
			e.mu.Lock()
			e.last = f
			e.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// LastForecast returns the forecast of the latest Loop pass (nil before
// the first), for health reports.
func (e *Engine) LastForecast() *Forecast {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}
