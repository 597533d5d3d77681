package record

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"vigil/internal/media/rtsp"
	"vigil/internal/store"
)

// NoteCause sets the cause of the camera's open gap (the source knows
// better than the recorder why it went away).
func (x *Index) NoteCause(ctx context.Context, camera, cause, detail string) error {
	_, err := x.db.Exec(ctx, `UPDATE recording_gaps SET cause = ?, detail = ? WHERE camera_id = ? AND end_us = 0 AND cause <> ?`,
		cause, detail, camera, CauseDisk)
	return err
}

// SourceURL returns a camera's stream URL with its credentials
// (registry.Service.SourceURL).
type SourceURL func(ctx context.Context, cameraID string) (string, error)

// RunCameras records the registry's recordable cameras (enabled,
// continuous) until ctx ends: for each, an RTSP supervisor pulling the
// camera into the hub under its id, and the recorder. Every poll it
// starts cameras that became recordable and stops those that no longer
// are.
func (r *Recorder) RunCameras(ctx context.Context, db *store.DB, source SourceURL, opts rtsp.ClientOptions, poll time.Duration) error {
	if poll <= 0 {
		poll = 30 * time.Second
	}
	type running struct {
		url    string // and transport
		cancel context.CancelFunc
		done   chan struct{}
	}
	active := map[string]*running{}
	var wg sync.WaitGroup
	defer func() {
		for _, a := range active {
			a.cancel()
		}
		wg.Wait()
	}()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		cams, err := RecordableCameras(ctx, db)
		if err != nil {
			r.opts.Log.Error("record: list recordable cameras", "err", err)
		}
		want := map[string]string{}
		kinds := map[string]rtsp.TransportKind{}
		for _, c := range cams {
			u, err := source(ctx, c.ID)
			if err != nil || u == "" {
				continue
			}
			kinds[c.ID] = r.cameraTransport(ctx, c.ID, opts.Transport)
			want[c.ID] = u + "\x00" + kinds[c.ID].String() // a new transport restarts the camera
		}
		for id, a := range active {
			if want[id] != a.url {
				a.cancel()
				<-a.done
				delete(active, id)
				r.dropIngest(id)
			}
		}
		for id, u := range want {
			if _, ok := active[id]; ok {
				continue
			}
			cctx, cancel := context.WithCancel(ctx)
			a := &running{url: u, cancel: cancel, done: make(chan struct{})}
			active[id] = a
			wg.Add(2)
			copts := opts
			copts.Transport = kinds[id]
			sup := r.supervise(cctx, id, u[:strings.IndexByte(u, 0)], copts)
			recDone, recReady := make(chan struct{}), make(chan struct{})
			go func() { // pull once the recorder waits for the stream (RET-5)
				defer wg.Done()
				select {
				case <-recReady:
					sup.Run(cctx)
				case <-cctx.Done():
				}
			}()
			go func() { defer wg.Done(); defer close(recDone); r.record(cctx, id, id, func() { close(recReady) }) }()
			go func() { <-recDone; close(a.done) }()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// cameraTransport is camera's transport from Options.CameraTransport, or def.
func (r *Recorder) cameraTransport(ctx context.Context, camera string, def rtsp.TransportKind) rtsp.TransportKind {
	if r.opts.CameraTransport == nil {
		return def
	}
	s, err := r.opts.CameraTransport(ctx, camera)
	if err != nil || s == "" {
		return def
	}
	k, err := rtsp.ParseTransportKind(s)
	if err != nil {
		r.opts.Log.Warn("record: unknown transport; using the default", "camera", camera, "transport", s)
		return def
	}
	return k
}

// supervise returns the supervisor of one camera, wired to its ingest
// state: state changes and faults are logged once, counted, and a camera
// that fails has an open gap with the failure's cause from the moment it
// was started, whether or not it ever connected (RET-5, MED-1).
func (r *Recorder) supervise(ctx context.Context, id, url string, opts rtsp.ClientOptions) *rtsp.Supervisor {
	e := r.ingestEntry(id)
	started := r.opts.Now()
	e.mu.Lock()
	e.st.Transport = opts.Transport.String()
	e.mu.Unlock()
	opts.Stats = e.stats
	opts.Log = r.opts.Log.With("camera", id)
	wctx := context.WithoutCancel(ctx)
	opts.OnEvent = func(ev rtsp.Event) {
		// On the read path: the index write goes on its own.
		go r.ingestEvent(wctx, e, ev)
	}
	streamed := false // OnState calls are serialised (the supervisor's loop)
	return &rtsp.Supervisor{Hub: r.hub, Name: id, URL: url, Options: opts, OnState: func(connected bool, err error) {
		if connected {
			streamed = true
			r.setIngest(e, IngestStreaming, nil)
			return
		}
		if err == nil {
			return
		}
		r.setIngest(e, IngestFailing, err)
		var gerr error
		if streamed {
			// The recorder opens the gap where its footage ended.
			gerr = r.index.NoteCause(wctx, id, streamCause(err), err.Error())
		} else {
			gerr = r.index.EnsureGap(wctx, id, started, streamCause(err), err.Error())
		}
		if gerr != nil {
			r.opts.Log.Error("record: mark gap", "camera", id, "err", gerr)
		}
	}}
}

// streamCause classifies why a camera's stream ended: a connection that timed
// out or was reset is the network; anything else (refused, unreachable,
// the camera's own error answers) is the camera being offline.
func streamCause(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CauseNetwork
	}
	s := err.Error()
	if strings.Contains(s, "reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "timeout") {
		return CauseNetwork
	}
	return CauseCameraOffline
}
