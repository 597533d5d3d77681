// Package sim simulates cameras (`vigil sim`): it loops a short clip
// embedded in the binary (H.264 or H.265 1280x720 at 25 fps, with AAC or
// G.711 audio) in real time and serves it as rtsp://ADDR/cam1…camN through
// Vigil's own RTSP server, or feeds it straight into a media.Hub (the
// server's demo mode).
//
// Invariants:
//   - Timestamps are continuous across loops of the clip: unit k of a
//     camera has PTS base + k·duration whatever loop it belongs to, and it is
//     written at start + k·duration of wall-clock time (paced, never bursted).
//   - Each RTSP session gets its own SSRC and random RTP timestamp offset
//     (the server's packetiser), and RTCP sender reports carry wall-clock NTP.
//   - Misbehaviour (loss, stalls, disconnects, garbage, no sprop, early RTP)
//     happens only when asked for in Options.Misbehave.
package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
)

// Options configure the simulated cameras.
type Options struct {
	Listen string      // RTSP listen address, e.g. "127.0.0.1:8554" (port 0 picks one)
	Count  int         // cameras cam1…camN (default 1)
	Codec  media.Codec // media.H264 (default) or media.H265
	Audio  media.Codec // media.AAC, media.PCMA, media.PCMU or "" for none
	// Misbehave makes the cameras' RTSP server misbehave (see rtsp.Faults).
	Misbehave rtsp.Faults
	// Username and Password, when set, are required of clients (Digest or
	// Basic).
	Username, Password string
	// OnListen, if set, is called with the RTSP address once serving.
	OnListen func(addr string)
	// ONVIF, when set, is the HTTP listen address of the cameras'
	// simulated ONVIF devices (PTZ, MED-3): camera N at
	// http://ADDR/onvif/camN/device_service (ONVIFPath), requiring
	// Username and Password (WS-Security digest). See onvif.go.
	ONVIF string
	// OnONVIF, if set, is called with the ONVIF address once serving.
	OnONVIF func(addr string)
	// ONVIFDiscovery, with ONVIF, is the UDP address where a WS-Discovery
	// responder answers probes for every camera: onvif.DiscoveryAddr (the
	// multicast group) or a unicast address; "" for none.
	ONVIFDiscovery string
	// Counters, if set, counts the units the RTSP server sent.
	Counters *rtsp.ServerCounters
}

// Publish feeds the clip into hub under name, paced in real time, until ctx
// ends. The source is closed on return.
func Publish(ctx context.Context, hub *media.Hub, name string, opts Options) error {
	c, err := loadClip(opts.Codec, opts.Audio)
	if err != nil {
		return err
	}
	src, err := hub.Publish(name, c.tracks())
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	defer src.Close()
	return c.play(ctx, src)
}

// play writes the clip's units to src at their wall-clock times.
func (c *clip) play(ctx context.Context, src *media.Source) error {
	start := time.Now()
	vbase := rand.Int64N(1 << 30) // each camera starts at its own timestamp
	var abase int64
	if c.audio != nil {
		abase = vbase * int64(c.audio.ClockRate) / 90000
	}
	var vi, ai int64
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		vAt := start.Add(media.Duration(vi*videoTick, 90000))
		next := vAt
		var aAt time.Time
		if c.audio != nil {
			aAt = start.Add(media.Duration(ai*c.audioTick, c.audio.ClockRate))
			if aAt.Before(next) {
				next = aAt
			}
		}
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		if !vAt.After(now) {
			n := vi % int64(len(c.videoAUs))
			pts := vbase + vi*videoTick
			src.Write(media.Unit{Track: 0, PTS: pts, DTS: pts, Key: c.videoKey[n], NALUs: c.videoAUs[n], Wall: vAt})
			vi++
		}
		if c.audio != nil && !aAt.After(now) {
			n := ai % int64(len(c.audioUnits))
			pts := abase + ai*c.audioTick
			src.Write(media.Unit{Track: 1, PTS: pts, DTS: pts, Key: true, Data: c.audioUnits[n], Wall: aAt})
			ai++
		}
	}
}

// Run serves opts.Count simulated cameras over RTSP until ctx ends.
func Run(ctx context.Context, opts Options) error {
	if opts.Count <= 0 {
		opts.Count = 1
	}
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:8554"
	}
	c, err := loadClip(opts.Codec, opts.Audio)
	if err != nil {
		return err
	}
	hub := media.NewHub()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 1; i <= opts.Count; i++ {
		src, err := hub.Publish(fmt.Sprintf("cam%d", i), c.tracks())
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer src.Close()
			c.play(ctx, src)
		}()
	}
	srv := &rtsp.Server{Hub: hub, Faults: opts.Misbehave, AllowBasic: true, Counters: opts.Counters}
	if opts.Username != "" {
		srv.Auth = rtsp.StaticAuth(opts.Username, opts.Password)
	}
	if err := srv.Start(opts.Listen); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if opts.ONVIF != "" {
		addr, stop, err := serveONVIF(opts, srv.Addr().String())
		if err != nil {
			srv.Close()
			return err
		}
		defer stop()
		if opts.OnONVIF != nil {
			opts.OnONVIF(addr)
		}
	}
	if opts.OnListen != nil {
		opts.OnListen(srv.Addr().String())
	}
	<-ctx.Done()
	cancel()
	return srv.Close()
}
