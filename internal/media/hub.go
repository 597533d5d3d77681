package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// DefaultQueueLen is a reader's queue length when ReaderOptions.QueueLen is
// zero: about 10 s of 25 fps video with its audio.
const DefaultQueueLen = 1024

// maxGOPCache bounds the GOP cache in units; a source that sends no
// keyframe for that long gets no cache until its next keyframe.
const maxGOPCache = 4096

// Errors returned by the hub.
var (
	ErrSourceExists = errors.New("media: a source with this name is already published")
	ErrNoSource     = errors.New("media: no source with this name is published")
	ErrReaderClosed = errors.New("media: reader closed")
)

// Hub holds the published sources by name and fans each source's units
// out to its readers (MED-2): the recorder, live viewers, the cascade.
// The zero value is not usable; call NewHub.
//
// Invariants of the hub:
//   - Source.Write never blocks on a reader: each reader has its own bounded
//     queue, and a reader whose queue is full loses units (counted in
//     Dropped) instead of slowing the source or the other readers.
//   - After a reader loses a video unit it skips video until the next
//     keyframe, so a decoder behind it never sees a broken GOP.
//   - A new reader starts with the source's GOP cache: the units from the
//     latest keyframe on (video and the audio written alongside), so the
//     first picture comes at once.
//   - Units are shared between readers, not copied: readers must not modify
//     a Unit's NALUs or Data.
type Hub struct {
	mu      sync.Mutex
	sources map[string]*Source
	waiters map[string]chan struct{} // closed when the name is published
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{sources: map[string]*Source{}, waiters: map[string]chan struct{}{}}
}

// Publish registers a new source under name. A name has at most one source:
// publishing a name that is in use fails with ErrSourceExists (a
// reconnecting camera closes its old source first; its readers see io.EOF
// and subscribe again, e.g. with SubscribeWait).
func (h *Hub) Publish(name string, tracks []Track) (*Source, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.sources[name]; ok {
		return nil, fmt.Errorf("publish %q: %w", name, ErrSourceExists)
	}
	s := &Source{hub: h, name: name, readers: map[*Reader]struct{}{}}
	s.setTracksLocked(tracks)
	h.sources[name] = s
	if w, ok := h.waiters[name]; ok {
		close(w)
		delete(h.waiters, name)
	}
	return s, nil
}

// Names returns the names of the published sources, sorted.
func (h *Hub) Names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.sources))
	for n := range h.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReaderOptions tune a reader.
type ReaderOptions struct {
	// QueueLen is the number of units the reader may lag behind the
	// source before it drops; DefaultQueueLen when zero.
	QueueLen int
	// NoGOPCache starts the reader at the next unit written instead of at
	// the latest keyframe (a recorder that must not repeat units).
	NoGOPCache bool
}

// Subscribe attaches a reader to the source published under name, failing
// with ErrNoSource when there is none.
func (h *Hub) Subscribe(name string, opts ReaderOptions) (*Reader, error) {
	h.mu.Lock()
	s, ok := h.sources[name]
	h.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("subscribe %q: %w", name, ErrNoSource)
	}
	r, err := s.subscribe(opts)
	if err != nil {
		return nil, fmt.Errorf("subscribe %q: %w", name, err)
	}
	return r, nil
}

// SubscribeWait is Subscribe for a reader that may start before its source:
// it waits until a source is published under name or ctx ends.
func (h *Hub) SubscribeWait(ctx context.Context, name string, opts ReaderOptions) (*Reader, error) {
	for {
		h.mu.Lock()
		s, ok := h.sources[name]
		var wait chan struct{}
		if !ok {
			wait, ok = h.waiters[name]
			if !ok {
				wait = make(chan struct{})
				h.waiters[name] = wait
			}
		}
		h.mu.Unlock()
		if s != nil {
			r, err := s.subscribe(opts)
			if err == nil {
				return r, nil
			}
			// Closed between lookup and subscribe: wait for the next one.
			continue
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for source %q: %w", name, ctx.Err())
		}
	}
}

// Source is the publishing side of one stream. Write, SetTracks and Close
// may be called from one goroutine while readers run in others.
type Source struct {
	hub  *Hub
	name string

	mu        sync.Mutex
	tracks    []Track
	gen       uint64
	video     int // index of the first video track, -1 without
	readers   map[*Reader]struct{}
	gop       []entry
	gopBroken bool // the cache overflowed: wait for the next keyframe
	closed    bool
}

// entry is one queued unit with the tracks in effect when it was written.
type entry struct {
	u      Unit
	tracks []Track
	gen    uint64
}

// Name returns the name the source was published under.
func (s *Source) Name() string { return s.name }

// Tracks returns the source's current tracks.
func (s *Source) Tracks() []Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tracks
}

// Readers returns how many readers are attached.
func (s *Source) Readers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.readers)
}

// SetTracks replaces the track descriptions, e.g. when the stream delivers
// new parameter sets. Units written afterwards carry the new tracks to
// readers (Reader.Tracks, Reader.Generation); the track count and order
// must not change.
func (s *Source) SetTracks(tracks []Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setTracksLocked(tracks)
}

func (s *Source) setTracksLocked(tracks []Track) {
	s.tracks = append([]Track(nil), tracks...)
	s.gen++
	s.video = -1
	for i, t := range s.tracks {
		if t.Codec.IsVideo() {
			s.video = i
			break
		}
	}
}

// Write hands u to every reader. It never blocks: a reader that cannot keep
// up loses units. Units written after Close are ignored.
func (s *Source) Write(u Unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	e := entry{u: u, tracks: s.tracks, gen: s.gen}
	s.cache(e)
	for r := range s.readers {
		r.push(e, s.video)
	}
}

// cache keeps the units from the latest video keyframe on.
func (s *Source) cache(e entry) {
	if s.video < 0 {
		return // audio only: every unit is a start point, no cache needed
	}
	if e.u.Track == s.video && e.u.Key {
		clear(s.gop)
		s.gop = append(s.gop[:0], e)
		s.gopBroken = false
		return
	}
	if len(s.gop) == 0 || s.gopBroken {
		return
	}
	if len(s.gop) >= maxGOPCache {
		clear(s.gop)
		s.gop = s.gop[:0]
		s.gopBroken = true
		return
	}
	s.gop = append(s.gop, e)
}

// Close unpublishes the source. Its readers receive the units already
// queued, then io.EOF. The name becomes free for a new Publish.
func (s *Source) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for r := range s.readers {
		r.finish()
	}
	s.readers = nil
	s.gop = nil
	s.mu.Unlock()

	s.hub.mu.Lock()
	if s.hub.sources[s.name] == s {
		delete(s.hub.sources, s.name)
	}
	s.hub.mu.Unlock()
}

func (s *Source) subscribe(opts ReaderOptions) (*Reader, error) {
	n := opts.QueueLen
	if n <= 0 {
		n = DefaultQueueLen
	}
	r := &Reader{src: s, q: make([]entry, n), signal: make(chan struct{}, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrNoSource
	}
	r.tracks, r.gen = s.tracks, s.gen
	if s.video >= 0 {
		r.needKey = true // never hand a decoder a GOP without its start
		if !opts.NoGOPCache {
			for _, e := range s.gop {
				r.push(e, s.video)
			}
		}
	}
	s.readers[r] = struct{}{}
	return r, nil
}

// Reader receives a source's units through its own bounded queue.
type Reader struct {
	src *Source

	mu      sync.Mutex
	q       []entry // ring buffer
	head, n int
	needKey bool // skip video until a keyframe
	dropped uint64
	eof     bool // the source closed
	closed  bool // the reader closed
	signal  chan struct{}

	// Owned by the goroutine calling Next.
	tracks []Track
	gen    uint64
}

// push queues e, or drops it when the queue is full. Called with the
// source's lock held.
func (r *Reader) push(e entry, video int) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	isVideo := e.u.Track == video
	switch {
	case isVideo && r.needKey && !e.u.Key:
		r.dropped++
	case r.n == len(r.q):
		r.dropped++
		if video >= 0 {
			r.needKey = true
		}
	default:
		if isVideo && e.u.Key {
			r.needKey = false
		}
		r.q[(r.head+r.n)%len(r.q)] = e
		r.n++
	}
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// finish marks the source closed. Called with the source's lock held.
func (r *Reader) finish() {
	r.mu.Lock()
	r.eof = true
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Next returns the next unit, waiting for one. It returns io.EOF once the
// source has closed and the queue is drained, ErrReaderClosed after Close,
// and ctx's error when ctx ends first. Next must not be called from more
// than one goroutine at a time.
func (r *Reader) Next(ctx context.Context) (Unit, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return Unit{}, ErrReaderClosed
		}
		if r.n > 0 {
			e := r.q[r.head]
			r.q[r.head] = entry{}
			r.head = (r.head + 1) % len(r.q)
			r.n--
			r.mu.Unlock()
			r.tracks, r.gen = e.tracks, e.gen
			return e.u, nil
		}
		if r.eof {
			r.mu.Unlock()
			return Unit{}, io.EOF
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-ctx.Done():
			return Unit{}, ctx.Err()
		}
	}
}

// Tracks returns the tracks in effect for the unit Next returned last (the
// source's tracks at subscription before the first). Call it from the
// goroutine that calls Next.
func (r *Reader) Tracks() []Track { return r.tracks }

// Generation numbers the track descriptions: it changes whenever the unit
// Next returned was written after a SetTracks. Call it from the goroutine
// that calls Next.
func (r *Reader) Generation() uint64 { return r.gen }

// Dropped returns how many units the reader lost because it fell behind
// (including video skipped while waiting for a keyframe).
func (r *Reader) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close detaches the reader from its source and wakes a pending Next.
func (r *Reader) Close() {
	r.src.mu.Lock()
	if r.src.readers != nil {
		delete(r.src.readers, r)
	}
	r.src.mu.Unlock()
	r.mu.Lock()
	r.closed = true
	clear(r.q)
	r.n = 0
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}
