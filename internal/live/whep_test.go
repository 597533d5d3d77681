package live_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"vigil/internal/audit"
	"vigil/internal/live"
	"vigil/internal/live/whepclient"
	"vigil/internal/media"
	"vigil/internal/media/codec"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/testutil"
)

// whepServer is a minimal HTTP front for the service, signed in as the
// fixture's subject (the real routes are in internal/httpapi).
func whepServer(t testing.TB, f *fixture) *httptest.Server {
	r := chi.NewRouter()
	r.Post("/cameras/{id}/whep", func(w http.ResponseWriter, r *http.Request) {
		offer, _ := io.ReadAll(r.Body)
		ss, answer, err := f.svc.StartWHEP(r.Context(), f.subj, chi.URLParam(r, "id"), r.URL.Query().Get("purpose"), string(offer))
		if err != nil {
			pe, _ := problem.As(err)
			if pe == nil {
				pe = &problem.Error{Status: 500, Code: err.Error()}
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(pe.Status)
			io.WriteString(w, `{"code":"`+pe.Code+`"}`)
			return
		}
		w.Header().Set("Content-Type", "application/sdp")
		w.Header().Set("Location", "/whep/"+ss.ID)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	})
	r.Delete("/whep/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := f.svc.EndWHEP(r.Context(), f.subj, chi.URLParam(r, "id")); err != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	r.Get("/cameras/{id}/live.mp4", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		f.svc.StreamFMP4(r.Context(), f.subj, chi.URLParam(r, "id"), r.URL.Query().Get("purpose"), w, func() { rc.Flush() },
			func(_, mime string) {
				w.Header().Set("Content-Type", "video/mp4")
				w.Header().Set("X-Vigil-Codecs", mime)
			})
	})
	r.Get("/player.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, live.PlayerJS)
	})
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, testPage)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// testPage plays ?cam= over ?mode=whep or mse and leaves the outcome in
// window.result: the video's width, the frames rendered in the 2 s after
// the first, and the time from the request to the first frame.
const testPage = `<!doctype html><meta charset=utf-8><video id=v muted autoplay playsinline width=640></video>
<script src="/player.js"></script><script>
(async () => {
  const q = new URLSearchParams(location.search), v = document.getElementById('v');
  try {
    const t0 = performance.now();
    const url = '/cameras/' + q.get('cam') + (q.get('mode') === 'mse' ? '/live.mp4' : '/whep') + '?purpose=' + encodeURIComponent('浏览器测试');
    const p = q.get('mode') === 'mse' ? await vigilMSE(v, url) : await vigilWHEP(v, url);
    const start = p.postedAt || t0;
    await new Promise((r) => v.requestVideoFrameCallback(r));
    const first = performance.now() - start;
    const frames = await vigilCountFrames(v, 2000);
    window.result = {width: v.videoWidth, height: v.videoHeight, frames, firstFrameMs: first};
    if (q.get('close') && p.close) await p.close();
  } catch (e) { window.result = {error: String(e && e.message || e)}; }
})();
</script>`

// TestWHEPDeliversDecodableH264: a pion WHEP client receives the simulated
// camera's H.264 from the GOP cache's keyframe on; ffmpeg decodes what it
// received without an error; the view and its end are in the access
// registry with the purpose. MED-2, ACC-3.
func TestWHEPDeliversDecodableH264(t *testing.T) {
	ffmpeg := testutil.Tool(t, "ffmpeg")
	f := newFixture(t, 1, media.PCMA, live.Options{})
	srv := whepServer(t, f)

	var mu sync.Mutex
	var annexb []byte
	var units, keys int
	var firstKey *bool
	c, err := whepclient.Dial(context.Background(), srv.URL+"/cameras/cam1/whep?purpose="+"值班巡查", whepclient.Options{Loopback: true,
		OnUnit: func(u media.Unit, _ time.Time) {
			mu.Lock()
			defer mu.Unlock()
			k := codec.H264IsKey(u.NALUs)
			if firstKey == nil {
				firstKey = &k
			}
			if k {
				keys++
			}
			units++
			annexb = append(annexb, codec.JoinAnnexB(u.NALUs)...)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Answer, "packetization-mode=1") || !strings.Contains(c.Answer, "H264") {
		t.Errorf("answer does not offer H.264 packetization-mode=1:\n%s", c.Answer)
	}
	if !strings.Contains(c.Answer, "PCMA") {
		t.Errorf("the camera has G.711 A-law and the offer took it, but the answer has no PCMA:\n%s", c.Answer)
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	n, data, fk := units, append([]byte(nil), annexb...), firstKey
	mu.Unlock()
	if n < 25 {
		t.Fatalf("received %d video frames in 2 s, want ≥ 25 (client state %s)", n, c.State())
	}
	if fk == nil || !*fk {
		t.Errorf("the first access unit received is not a keyframe")
	}
	if c.AudioPackets() == 0 {
		t.Errorf("no G.711 audio received")
	}
	t.Logf("frames %d, first frame after %v, audio packets %d", n, c.FirstUnit(), c.AudioPackets())

	// The first AU carried SPS and PPS: ffmpeg decodes the stream as is.
	p := filepath.Join(t.TempDir(), "rx.h264")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffmpeg, "-v", "error", "-f", "h264", "-i", p, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("ffmpeg found errors in the received H.264: %v\n%s", err, out)
	}

	ss := f.svc.Sessions()
	if len(ss) != 1 || ss[0].FramesSent < 25 || ss[0].FirstFrameIn <= 0 {
		t.Fatalf("session stats: %+v", ss)
	}
	recs := f.access(t, "cam1")
	if len(recs) != 1 || recs[0].Purpose != "值班巡查" || recs[0].Method != "webrtc" || recs[0].EndedAt != nil {
		t.Fatalf("access registry during the view: %+v", recs)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs = f.access(t, "cam1")
	if len(recs) != 1 || recs[0].EndedAt == nil {
		t.Fatalf("the view's end is not registered after DELETE: %+v", recs)
	}
	if len(f.svc.Sessions()) != 0 {
		t.Fatalf("session still open after DELETE")
	}
}

// TestWHEPEndsWhenPeerVanishes: a viewer that goes away without DELETE
// (ICE fails) has its session ended and its end registered. ACC-3.
func TestWHEPEndsWhenPeerVanishes(t *testing.T) {
	f := newFixture(t, 1, "", live.Options{})
	srv := whepServer(t, f)
	c, err := whepclient.Dial(context.Background(), srv.URL+"/cameras/cam1/whep?purpose=p", whepclient.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Units() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c.Units() == 0 {
		t.Fatal("no video before vanishing")
	}
	c.CloseQuietly()
	deadline = time.Now().Add(20 * time.Second)
	for len(f.svc.Sessions()) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(f.svc.Sessions()); n != 0 {
		t.Fatalf("%d sessions still open 20 s after the peer vanished", n)
	}
	if recs := f.access(t, "cam1"); len(recs) != 1 || recs[0].EndedAt == nil {
		t.Fatalf("end not registered: %+v", recs)
	}
}

// TestWHEPRefusals: no purpose, an unknown camera, a bad offer, another
// user's session. ACC-3.
func TestWHEPRefusals(t *testing.T) {
	f := newFixture(t, 1, "", live.Options{})
	srv := whepServer(t, f)
	ctx := context.Background()
	for _, tc := range []struct {
		name, url string
		status    int
		code      string
	}{
		{"no purpose", "/cameras/cam1/whep", 400, "policy.purpose_required"},
		{"unknown camera", "/cameras/nope/whep?purpose=p", 404, "live.camera_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whepclient.Dial(ctx, srv.URL+tc.url, whepclient.Options{Loopback: true})
			var he *whepclient.HTTPError
			if !errors.As(err, &he) || he.Status != tc.status || !strings.Contains(string(he.Body), tc.code) {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
	if recs := f.access(t, "cam1"); len(recs) != 0 {
		t.Fatalf("refused views were registered: %+v", recs)
	}
	// The gate decides before the offer is read: a malformed offer from
	// someone without the permission is a denial (audited), and from
	// someone with it a 400 whose view is registered and ended at once.
	outsider := *f.subj
	outsider.Grants = nil
	var denied *policy.DeniedError
	if _, _, err := f.svc.StartWHEP(ctx, &outsider, "cam1", "p", "v=0\r\nnot sdp"); !errors.As(err, &denied) {
		t.Fatalf("malformed offer without the permission: %v", err)
	}
	es, _ := f.log.List(ctx, audit.Filter{Action: "gate.decide"})
	deniedN := 0
	for _, e := range es {
		if e.Outcome == audit.Denied && e.Actor.ID == outsider.UserID {
			deniedN++
		}
	}
	if deniedN == 0 {
		t.Fatal("the refused malformed offer was not audited")
	}
	if _, _, err := f.svc.StartWHEP(ctx, f.subj, "cam1", "p", "v=0\r\nnot sdp"); err == nil {
		t.Fatal("a malformed offer was accepted")
	} else if pe, ok := problem.As(err); !ok || pe.Code != "live.bad_offer" {
		t.Fatalf("malformed offer: %v", err)
	}
	if recs := f.access(t, "cam1"); len(recs) != 1 || recs[0].EndedAt == nil {
		t.Fatalf("the malformed offer's view is not registered and ended: %+v", recs)
	}
	c, err := whepclient.Dial(ctx, srv.URL+"/cameras/cam1/whep?purpose=p", whepclient.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	other := *f.subj
	other.UserID = "u2"
	id := c.Location[strings.LastIndex(c.Location, "/")+1:]
	if err := f.svc.EndWHEP(ctx, &other, id); err == nil {
		t.Fatal("another user ended the session")
	}
}

// FuzzParseSDPFrag: trickle-ICE bodies from viewers.
func FuzzParseSDPFrag(f *testing.F) {
	f.Add("a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n")
	f.Add("a=candidate:1 1 udp\r\n")
	f.Add("m=\nm=\na=mid:\na=candidate:a b c d e f g h\n")
	f.Fuzz(func(t *testing.T, s string) {
		cands, err := live.ParseSDPFrag(s)
		if err != nil {
			return
		}
		for _, c := range cands {
			if c.SDPMLineIndex == nil || len(strings.Fields(c.Candidate)) < 8 {
				t.Fatalf("bad candidate accepted: %+v", c)
			}
		}
	})
}
