package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"vigil/internal/keyring"
	"vigil/internal/media"
	"vigil/internal/media/rtpdec"
	"vigil/internal/policy"
	"vigil/internal/problem"
)

// rtpMTU keeps packets under common path MTUs after SRTP and UDP headers.
const rtpMTU = 1200

// lateUnit is how old (by capture time) a unit must be to count as part of
// the GOP-cache burst a new viewer starts with.
const lateUnit = 150 * time.Millisecond

// maxOffer bounds an SDP offer or trickle fragment.
const maxOffer = 64 << 10

// Session is one WHEP viewer.
type Session struct {
	ID       string
	CameraID string
	AccessID string // the access record (调用登记) of the view
	Started  time.Time

	svc     *Service
	subj    *policy.Subject
	dec     policy.Decision // the gate's allow of this view
	pc      *webrtc.PeerConnection
	video   *webrtc.TrackLocalStaticRTP
	audio   *webrtc.TrackLocalStaticRTP // nil without audio
	audioIx int

	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}

	framesSent  atomic.Uint64
	audioSent   atomic.Uint64
	bytesSent   atomic.Uint64
	dropped     atomic.Uint64
	firstFrame  atomic.Int64 // unix nanos of the first video frame sent
	endedReason atomic.Value
	restarts    atomic.Uint64
	keyRequest  atomic.Bool

	// Owned by the sending goroutine: they survive restarts so the
	// viewer sees one continuous RTP stream.
	vpk, apk *rtpdec.Packetizer
	vclock   timeline
}

// errRestart asks the sender to start again at the GOP cache.
var errRestart = errors.New("keyframe requested")

// SessionStats are a WHEP session's counters.
type SessionStats struct {
	ID           string        `json:"id"`
	CameraID     string        `json:"camera_id"`
	AccessID     string        `json:"access_id"`
	UserID       string        `json:"user_id"`
	Started      time.Time     `json:"started"`
	FramesSent   uint64        `json:"frames_sent"`
	AudioSent    uint64        `json:"audio_frames_sent"`
	BytesSent    uint64        `json:"bytes_sent"`
	Dropped      uint64        `json:"dropped"`  // units lost in the hub queue (the viewer fell behind)
	Restarts     uint64        `json:"restarts"` // restarts at the GOP cache on the viewer's keyframe requests
	FirstFrameIn time.Duration `json:"first_frame_ns"`
	State        string        `json:"state"`
}

// Stats returns the session's counters.
func (ss *Session) Stats() SessionStats {
	st := SessionStats{ID: ss.ID, CameraID: ss.CameraID, AccessID: ss.AccessID, UserID: ss.subj.UserID, Started: ss.Started,
		FramesSent: ss.framesSent.Load(), AudioSent: ss.audioSent.Load(), BytesSent: ss.bytesSent.Load(), Dropped: ss.dropped.Load(),
		Restarts: ss.restarts.Load(), State: ss.pc.ConnectionState().String()}
	if f := ss.firstFrame.Load(); f != 0 {
		st.FirstFrameIn = time.Unix(0, f).Sub(ss.Started)
	}
	return st
}

// Done is closed when the session has ended.
func (ss *Session) Done() <-chan struct{} { return ss.done }

// StartWHEP answers a WHEP offer for camera id: the gate first (live view,
// method webrtc, with purpose), then a peer connection sending the
// camera's H.264 (and G.711 or Opus audio when the offer takes it). The
// answer carries all the server's host candidates (no trickle needed from
// this side).
func (s *Service) StartWHEP(ctx context.Context, subj *policy.Subject, id, purpose, offer string) (*Session, string, error) {
	if len(offer) > maxOffer {
		return nil, "", problem.BadRequest("live.bad_offer", problem.P{"error": "offer too large"})
	}
	// The gate first: every attempt is decided and audited, a bad offer
	// included (its view ends at once).
	_, d, err := s.decide(ctx, subj, id, policy.ViewLive, purpose, "webrtc")
	if err != nil {
		return nil, "", err
	}
	if _, err := parseOffer(offer); err != nil {
		s.endView(subj, d.ID(), "bad offer")
		return nil, "", err
	}
	ss, answer, err := s.newSession(ctx, subj, id, d, offer)
	if err != nil {
		s.endView(subj, d.ID(), "session not started")
		return nil, "", err
	}
	return ss, answer, nil
}

func (s *Service) newSession(ctx context.Context, subj *policy.Subject, id string, dec policy.Decision, offer string) (*Session, string, error) {
	tracks, err := s.tracksOf(id)
	if err != nil {
		return nil, "", err
	}
	vi, ai := -1, -1
	for i, t := range tracks {
		switch {
		case t.Codec == media.H264 && vi < 0:
			vi = i
		case (t.Codec == media.PCMA || t.Codec == media.PCMU || t.Codec == media.Opus) && ai < 0:
			ai = i
		}
	}
	if vi < 0 {
		return nil, "", problem.Unprocessable("live.webrtc_codec", problem.P{"id": id, "codec": codecsOf(tracks)})
	}
	sd, _ := parseOffer(offer)
	if ai >= 0 && !offers(sd, tracks[ai].Codec) {
		ai = -1
	}
	pc, err := s.rtc.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("live: new peer connection: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	ss := &Session{ID: keyring.RandomToken(16), CameraID: id, AccessID: dec.ID(), Started: time.Now(), svc: s, subj: subj, dec: dec, pc: pc,
		audioIx: ai, ctx: sctx, cancel: cancel, done: make(chan struct{})}
	fail := func(err error) (*Session, string, error) {
		cancel()
		pc.Close()
		return nil, "", err
	}
	ss.video, err = webrtc.NewTrackLocalStaticRTP(videoCapability(tracks[vi]), "video", "vigil-"+id)
	if err == nil {
		_, err = pc.AddTransceiverFromTrack(ss.video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	}
	if err == nil && ai >= 0 {
		ss.audio, err = webrtc.NewTrackLocalStaticRTP(audioCapability(tracks[ai].Codec), "audio", "vigil-"+id)
		if err == nil {
			_, err = pc.AddTransceiverFromTrack(ss.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		}
	}
	if err != nil {
		return fail(fmt.Errorf("live: add tracks: %w", err))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(problem.BadRequest("live.bad_offer", problem.P{"error": err.Error()}))
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(problem.BadRequest("live.bad_offer", problem.P{"error": err.Error()}))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return fail(fmt.Errorf("live: set local description: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(5 * time.Second):
		return fail(errors.New("live: ICE gathering did not complete in 5 s"))
	}
	connected := make(chan struct{})
	var connOnce sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			connOnce.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			go ss.end("peer " + st.String())
		}
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fail(&problem.Error{Status: http.StatusServiceUnavailable, Code: "live.closing", Params: problem.P{}})
	}
	s.sessions[ss.ID] = ss
	s.mu.Unlock()
	go ss.run(connected)
	return ss, pc.LocalDescription().SDP, nil
}

// run waits for the peer to connect, then sends the camera's units from
// the GOP cache's keyframe on until the session ends.
func (ss *Session) run(connected <-chan struct{}) {
	s := ss.svc
	select {
	case <-connected:
	case <-ss.ctx.Done():
		return
	case <-time.After(s.opts.ConnectTimeout):
		ss.end("peer never connected")
		return
	}
	for _, t := range []*webrtc.TrackLocalStaticRTP{ss.video, ss.audio} {
		if t != nil {
			go ss.readRTCP(t)
		}
	}
	var err error
	var dropped uint64
	for {
		var rd *media.Reader
		rd, err = s.subscribe(ss.dec, ss.CameraID, media.ReaderOptions{QueueLen: 512})
		if err != nil {
			break
		}
		err = ss.pump(rd, dropped)
		dropped += rd.Dropped()
		ss.dropped.Store(dropped)
		rd.Close()
		if !errors.Is(err, errRestart) {
			break
		}
		ss.restarts.Add(1)
	}
	switch {
	case errors.Is(err, io.EOF):
		ss.end("camera offline")
	case err != nil && ss.ctx.Err() == nil:
		s.opts.Log.Warn("live: WHEP session failed", "session", ss.ID, "camera", ss.CameraID, "err", err)
		ss.end("send failed")
	}
}

// readRTCP reads the RTCP the viewer sends about t (receiver reports,
// NACK, PLI, FIR) so that the interceptors see it, and turns a picture
// loss indication into a restart at the GOP cache's keyframe (at most one
// a second): the browser's decoder asks for one when it cannot go on.
func (ss *Session) readRTCP(t webrtc.TrackLocal) {
	for _, snd := range ss.pc.GetSenders() {
		if snd.Track() != t {
			continue
		}
		for {
			pkts, _, err := snd.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					ss.keyRequest.Store(true)
				}
			}
		}
	}
}

// pump packetises units onto the tracks. Units older than lateUnit (the
// GOP-cache burst a viewer starts with) are sent with timestamps 1 ms
// apart so the browser decodes through them at once instead of showing
// live video late by a GOP; later units keep their real spacing.
func (ss *Session) pump(rd *media.Reader, droppedBefore uint64) error {
	tracks := rd.Tracks()
	var vpk, apk *rtpdec.Packetizer
	var err error
	vt := -1
	for i, t := range tracks {
		if t.Codec.IsVideo() {
			vt = i
			break
		}
	}
	if ss.vpk == nil {
		if ss.vpk, err = rtpdec.NewPacketizer(tracks[vt], 96, rand.Uint32(), rtpMTU); err != nil {
			return err
		}
		if ss.audio != nil {
			if ss.apk, err = rtpdec.NewPacketizer(tracks[ss.audioIx], 0, rand.Uint32(), rtpMTU); err != nil {
				return err
			}
		}
	}
	vpk, apk = ss.vpk, ss.apk
	vclock := &ss.vclock
	pace := pacer{rate: burstRate}
	gen := rd.Generation()
	started := time.Now()
	for {
		u, err := rd.Next(ss.ctx)
		if err != nil {
			return err
		}
		if ss.keyRequest.Swap(false) && time.Since(started) > time.Second {
			return errRestart
		}
		if rd.Generation() != gen {
			gen = rd.Generation()
			vpk.SetTrack(rd.Tracks()[vt])
		}
		ss.dropped.Store(droppedBefore + rd.Dropped())
		late := !u.Wall.IsZero() && time.Since(u.Wall) > lateUnit
		switch {
		case u.Track == vt:
			pts := vclock.next(u.PTS, late, 90)
			pkts, err := vpk.Packetize(media.Unit{PTS: pts, Key: u.Key, NALUs: u.NALUs})
			if err != nil {
				return err
			}
			for _, p := range pkts {
				if err := pace.wait(ss.ctx, len(p.Payload)); err != nil {
					return err
				}
				if err := ss.video.WriteRTP(p); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return fmt.Errorf("write video: %w", err)
				}
				ss.bytesSent.Add(uint64(len(p.Payload)))
			}
			if ss.framesSent.Add(1) == 1 {
				ss.firstFrame.Store(time.Now().UnixNano())
			}
		case apk != nil && u.Track == ss.audioIx && !late:
			pkts, err := apk.Packetize(u)
			if err != nil {
				return err
			}
			for _, p := range pkts {
				if err := ss.audio.WriteRTP(p); err != nil && !errors.Is(err, io.ErrClosedPipe) {
					return fmt.Errorf("write audio: %w", err)
				}
				ss.bytesSent.Add(uint64(len(p.Payload)))
			}
			ss.audioSent.Add(1)
		}
	}
}

// burstRate (bytes per second) paces packets: a GOP-cache burst sent at
// wire speed overflows socket buffers on the way and loses the keyframe
// it was meant to deliver.
const burstRate = 4 << 20

// pacer is a token bucket of a few milliseconds' depth.
type pacer struct {
	rate   float64
	tokens float64
	last   time.Time
}

func (p *pacer) wait(ctx context.Context, n int) error {
	now := time.Now()
	if p.last.IsZero() {
		p.last, p.tokens = now, p.rate/100
	}
	p.tokens = min(p.tokens+now.Sub(p.last).Seconds()*p.rate, p.rate/100)
	p.last = now
	p.tokens -= float64(n)
	if p.tokens >= 0 {
		return nil
	}
	d := time.Duration(-p.tokens / p.rate * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// timeline maps source timestamps to sent ones, squeezing late units.
type timeline struct {
	set       bool
	last, out int64
}

func (t *timeline) next(pts int64, late bool, squeeze int64) int64 {
	if !t.set {
		t.set, t.last, t.out = true, pts, pts
		return pts
	}
	d := pts - t.last
	if d < 0 || d > 10*90000 {
		d = 3600 // a jump in the source: one frame's worth
	}
	if late {
		d = min(d, squeeze)
	}
	t.last = pts
	t.out += d
	return t.out
}

// end stops the session once: closes the peer connection, forgets it and
// registers the view's end.
func (ss *Session) end(why string) {
	ss.once.Do(func() {
		ss.endedReason.Store(why)
		ss.cancel()
		ss.pc.Close()
		s := ss.svc
		s.endView(ss.subj, ss.AccessID, why)
		s.mu.Lock()
		delete(s.sessions, ss.ID)
		s.mu.Unlock()
		close(ss.done)
	})
}

// session returns subj's session id.
func (s *Service) session(subj *policy.Subject, id string) (*Session, error) {
	s.mu.Lock()
	ss, ok := s.sessions[id]
	s.mu.Unlock()
	if !ok || subj == nil || ss.subj.UserID != subj.UserID {
		return nil, problem.NotFound("live.session_not_found", problem.P{"id": id})
	}
	return ss, nil
}

// EndWHEP ends subj's session id (WHEP DELETE).
func (s *Service) EndWHEP(ctx context.Context, subj *policy.Subject, id string) error {
	ss, err := s.session(subj, id)
	if err != nil {
		return err
	}
	ss.end("ended by the viewer")
	return nil
}

// PatchWHEP adds the viewer's trickled ICE candidates (an
// application/trickle-ice-sdpfrag body) to session id.
func (s *Service) PatchWHEP(ctx context.Context, subj *policy.Subject, id, frag string) error {
	ss, err := s.session(subj, id)
	if err != nil {
		return err
	}
	if len(frag) > maxOffer {
		return problem.BadRequest("live.bad_candidate", problem.P{"error": "fragment too large"})
	}
	cands, err := ParseSDPFrag(frag)
	if err != nil {
		return problem.BadRequest("live.bad_candidate", problem.P{"error": err.Error()})
	}
	for _, c := range cands {
		if err := ss.pc.AddICECandidate(c); err != nil {
			return problem.BadRequest("live.bad_candidate", problem.P{"error": err.Error()})
		}
	}
	return nil
}

// Sessions returns the counters of every open WHEP session.
func (s *Service) Sessions() []SessionStats {
	s.mu.Lock()
	all := make([]*Session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	out := make([]SessionStats, len(all))
	for i, ss := range all {
		out[i] = ss.Stats()
	}
	return out
}

// Session returns the open session id, for its counters.
func (s *Service) Session(id string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	return ss, ok
}

// ParseSDPFrag reads the candidates of a trickle-ice-sdpfrag (RFC 8840):
// "a=candidate:" lines, each applying to the m-line ("a=mid:") above it.
// a=end-of-candidates and ICE credentials are accepted and ignored.
func ParseSDPFrag(frag string) ([]webrtc.ICECandidateInit, error) {
	var out []webrtc.ICECandidateInit
	var mid *string
	var line0 uint16
	for _, l := range strings.Split(frag, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case strings.HasPrefix(l, "m="):
			line0++
		case strings.HasPrefix(l, "a=mid:"):
			m := strings.TrimPrefix(l, "a=mid:")
			mid = &m
		case strings.HasPrefix(l, "a=candidate:"):
			c := strings.TrimPrefix(l, "a=")
			if len(strings.Fields(c)) < 8 {
				return nil, fmt.Errorf("candidate %q has fewer than 8 fields", c)
			}
			idx := max(line0, 1) - 1
			out = append(out, webrtc.ICECandidateInit{Candidate: c, SDPMid: mid, SDPMLineIndex: &idx})
		case strings.HasPrefix(l, "a="):
		default:
			return nil, fmt.Errorf("line %q is not part of an SDP fragment", l)
		}
	}
	return out, nil
}

// parseOffer checks that offer is an SDP offer with a video m-line.
func parseOffer(offer string) (*sdp.SessionDescription, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, problem.BadRequest("live.bad_offer", problem.P{"error": err.Error()})
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "video" {
			return &sd, nil
		}
	}
	return nil, problem.BadRequest("live.bad_offer", problem.P{"error": "the offer has no video m-line"})
}

// offers reports whether the offer lists codec c in an audio m-line.
func offers(sd *sdp.SessionDescription, c media.Codec) bool {
	want := map[media.Codec]string{media.PCMA: "pcma/8000", media.PCMU: "pcmu/8000", media.Opus: "opus/48000"}[c]
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToLower(a.Value), want) {
				return true
			}
		}
	}
	return false
}

func codecsOf(ts []media.Track) string {
	var cs []string
	for _, t := range ts {
		cs = append(cs, string(t.Codec))
	}
	return strings.Join(cs, ",")
}
