package record

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
	"vigil/internal/sim"
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
		url    string
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
		for _, c := range cams {
			u, err := source(ctx, c.ID)
			if err != nil || u == "" {
				continue
			}
			want[c.ID] = u
		}
		for id, a := range active {
			if want[id] != a.url {
				a.cancel()
				<-a.done
				delete(active, id)
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
			sup := &rtsp.Supervisor{Hub: r.hub, Name: id, URL: u, Options: opts, OnState: func(connected bool, err error) {
				if !connected && err != nil {
					r.index.NoteCause(context.WithoutCancel(cctx), id, streamCause(err), err.Error())
				}
			}}
			recDone := make(chan struct{})
			go func() { defer wg.Done(); sup.Run(cctx) }()
			go func() { defer wg.Done(); defer close(recDone); r.Record(cctx, id, id) }()
			go func() { <-recDone; close(a.done) }()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
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

// DemoCameraID names the i-th demo camera (1-based).
func DemoCameraID(i int) string { return fmt.Sprintf("demo%d", i) }

// StartDemo starts n simulated cameras (`vigil serve --demo N`): each
// publishes the simulator's clip (H.264 with AAC) into the hub and is
// recorded. register, if set, is called first for each camera i (1…n) to
// give it a registry file — so playback's gate knows its unit — and
// returns the camera's id; without it the ids are DemoCameraID(i). The
// hub source of a camera is named by its id. It returns at once;
// everything stops when ctx ends, and wait blocks until it has.
func StartDemo(ctx context.Context, hub *media.Hub, rec *Recorder, n int, register func(ctx context.Context, i int, name string) (string, error)) (ids []string, wait func(), err error) {
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		id := DemoCameraID(i)
		if register != nil {
			if id, err = register(ctx, i, fmt.Sprintf("Demo camera %d", i)); err != nil {
				return nil, nil, fmt.Errorf("demo camera %d: %w", i, err)
			}
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := sim.Publish(ctx, hub, id, sim.Options{Audio: media.AAC}); err != nil {
				rec.opts.Log.Error("demo camera", "camera", id, "err", err)
			}
		}()
		go func() { defer wg.Done(); rec.Record(ctx, id, id) }()
	}
	return ids, wg.Wait, nil
}
