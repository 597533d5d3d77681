package playback

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"vigil/internal/policy"
)

// Stream is a clip's bytes in one format, produced on demand from the
// recorded segments: nothing is written outside storage. It is an
// io.ReadSeeker for http.ServeContent: the size is known first (the
// output is produced once, counted, and the count kept per access), and a
// read after a seek produces the output again from the start of the clip,
// passing on only the bytes from the offset on — so an HTTP Range request
// is answered without a temporary file.
type Stream struct {
	clip   *Clip
	format string
	ud     map[string]string
	size   int64

	off  int64
	pr   *io.PipeReader
	done chan struct{}
}

// Size is the stream's length in bytes.
func (st *Stream) Size() int64 { return st.size }

// write produces the whole output into w.
func (st *Stream) write(w io.Writer) error {
	if st.format == FormatMP4 {
		return st.clip.WriteMP4(w, st.ud)
	}
	return st.clip.WriteFMP4(w, st.ud)
}

// Seek implements io.Seeker.
func (st *Stream) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += st.off
	case io.SeekEnd:
		offset += st.size
	}
	if offset < 0 {
		return 0, errors.New("playback: negative offset")
	}
	if offset != st.off {
		st.stop()
		st.off = offset
	}
	return offset, nil
}

// Read implements io.Reader.
func (st *Stream) Read(p []byte) (int, error) {
	if st.off >= st.size {
		return 0, io.EOF
	}
	if st.pr == nil {
		pr, pw := io.Pipe()
		st.pr, st.done = pr, make(chan struct{})
		skip := st.off
		go func(done chan struct{}) {
			defer close(done)
			pw.CloseWithError(st.write(&skipWriter{w: pw, skip: skip}))
		}(st.done)
	}
	n, err := st.pr.Read(p)
	st.off += int64(n)
	return n, err
}

// Close stops any production in progress.
func (st *Stream) Close() error {
	st.stop()
	return nil
}

func (st *Stream) stop() {
	if st.pr != nil {
		st.pr.CloseWithError(io.ErrClosedPipe)
		<-st.done
		st.pr, st.done = nil, nil
	}
}

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip >= int64(n) {
		s.skip -= int64(n)
		return n, nil
	}
	if _, err := s.w.Write(p[s.skip:]); err != nil {
		return 0, err
	}
	s.skip = 0
	return n, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// sizes remembers streams' sizes per access (decision, format, range), so
// that a player's Range requests, which reuse the access, do not produce
// the output once more only to count it.
type sizes struct {
	mu sync.Mutex
	m  map[string]int64
}

func (z *sizes) get(k string) (int64, bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.m[k]
	return n, ok
}

func (z *sizes) put(k string, n int64) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.m == nil || len(z.m) >= 4096 {
		z.m = map[string]int64{}
	}
	z.m[k] = n
}

// Stream returns clip (opened with dec) as format, its user data naming
// the camera, the access record and the range. dec must cover the clip.
func (s *Service) Stream(dec policy.Decision, clip *Clip, format string) (*Stream, error) {
	if err := dec.Covers(policy.Playback, clip.CameraID, clip.Start, clip.End); err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	ud := map[string]string{"vigil.camera": clip.CameraID, "vigil.access": dec.ID(),
		"vigil.start": clip.Start.UTC().Format(time.RFC3339Nano), "vigil.end": clip.End.UTC().Format(time.RFC3339Nano)}
	st := &Stream{clip: clip, format: format, ud: ud}
	key := dec.ID() + "|" + format + "|" + ud["vigil.start"] + "|" + ud["vigil.end"]
	if n, ok := s.sizes.get(key); ok {
		st.size = n
		return st, nil
	}
	var c countWriter
	if err := st.write(&c); err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	st.size = c.n
	s.sizes.put(key, c.n)
	return st, nil
}
