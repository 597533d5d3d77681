package rtsp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"vigil/internal/media"
)

// Supervisor keeps one camera connected and published into a hub under
// Name: it pulls URL, publishes the session's tracks, writes every unit,
// updates the tracks when they change, and after any failure closes the
// source (readers see io.EOF) and reconnects with exponential backoff and
// full jitter.
type Supervisor struct {
	Hub     *media.Hub
	Name    string
	URL     string
	Options ClientOptions // OnUnit and OnTracks are the supervisor's own

	MinBackoff time.Duration // default 1 s
	MaxBackoff time.Duration // default 30 s
	// OnState, if set, is told of each connection and failure (for health
	// and logs). err is nil when the session started playing.
	OnState func(connected bool, err error)

	mu      sync.Mutex
	lastErr error
}

// Stats returns the supervisor's counters (Options.Stats, created if nil).
func (s *Supervisor) Stats() *Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Options.Stats == nil {
		s.Options.Stats = &Stats{}
	}
	return s.Options.Stats
}

// LastError returns the error that ended the latest attempt, or nil.
func (s *Supervisor) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Run supervises until ctx ends; it returns ctx's error.
func (s *Supervisor) Run(ctx context.Context) error {
	if s.Hub == nil || s.Name == "" {
		return errors.New("rtsp supervisor: Hub and Name are required")
	}
	st := s.Stats()
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB < minB {
		maxB = max(30*time.Second, minB)
	}
	backoff := minB
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			st.Reconnects.Add(1)
		}
		started := time.Now()
		err := s.once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		if s.OnState != nil {
			s.OnState(false, err)
		}
		if time.Since(started) > 2*maxB {
			backoff = minB // it ran a good while: start over
		}
		// Full jitter between backoff/2 and backoff.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
		backoff = min(backoff*2, maxB)
	}
}

// once runs one session to its end.
func (s *Supervisor) once(ctx context.Context) error {
	var (
		mu     sync.Mutex
		src    *media.Source
		tracks []media.Track
		early  []media.Unit // units before the source exists (RTP before PLAY's answer)
	)
	opts := s.Options
	opts.OnUnit = func(u media.Unit) {
		mu.Lock()
		defer mu.Unlock()
		if src == nil {
			if len(early) < 512 {
				early = append(early, u)
			}
			return
		}
		src.Write(u)
	}
	opts.OnTracks = func(t []media.Track) {
		mu.Lock()
		defer mu.Unlock()
		if src == nil {
			tracks = t
			return
		}
		src.SetTracks(t)
	}
	sess, err := Pull(ctx, s.URL, opts)
	if err != nil {
		return err
	}
	defer sess.Close()
	mu.Lock() // OnTracks gave the SDP's tracks before any unit
	src, err = s.Hub.Publish(s.Name, tracks)
	if err == nil {
		for _, u := range early {
			src.Write(u)
		}
		early = nil
	}
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("rtsp supervisor %s: %w", s.Name, err)
	}
	defer func() {
		mu.Lock()
		src.Close()
		mu.Unlock()
	}()
	if s.OnState != nil {
		s.OnState(true, nil)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-sess.Done():
		return sess.Wait()
	}
}
