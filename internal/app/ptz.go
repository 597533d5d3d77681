package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"
	"time"

	"vigil/internal/live"
	"vigil/internal/onvif"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// ptzResolver finds a camera's PTZ controller from the ONVIF settings in
// its file (MED-3). It keeps one connected handle per camera for ttl, so a
// run of moves and stops does not ask the device for its capabilities and
// profiles each time; a handle is dropped when the settings change, when
// a command through it fails, or when it is older than ttl. The gate has
// allowed (and audited) the command before the resolver is asked, so a
// subject without camera.ptz never causes a connection to the device.
type ptzResolver struct {
	reg            onvifSettings
	ttl            time.Duration // how long a connected handle is reused
	connectTimeout time.Duration // the whole of onvif.Connect
	now            func() time.Time

	mu      sync.Mutex
	handles map[string]ptzEntry // by camera id
}

// onvifSettings reads a camera's ONVIF settings (registry.Service.ONVIF).
type onvifSettings interface {
	ONVIF(ctx context.Context, id string) (url, user, pass string, err error)
}

// ptzEntry is a connected handle and the settings it was made from.
type ptzEntry struct {
	key [32]byte // hash of URL, user and password: a change reconnects
	h   onvif.PTZHandle
	at  time.Time
}

func newPTZResolver(reg onvifSettings) *ptzResolver {
	return &ptzResolver{reg: reg, ttl: 5 * time.Minute, connectTimeout: 8 * time.Second, now: time.Now,
		handles: map[string]ptzEntry{}}
}

// ptzUnavailable is the live package's answer for a camera without PTZ
// (live.ptz_unavailable, 501).
func ptzUnavailable(id string) error {
	return &problem.Error{Status: http.StatusNotImplemented, Code: "live.ptz_unavailable", Params: problem.P{"id": id}}
}

// PTZ returns camera id's controller, connecting to its device when no
// fresh handle made from the current settings is cached.
func (r *ptzResolver) PTZ(ctx context.Context, id string) (live.PTZController, error) {
	url, user, pass, err := r.reg.ONVIF(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("registry.camera_not_found", problem.P{"id": id})
	}
	if err != nil {
		return nil, err
	}
	if url == "" {
		r.forget(id, nil)
		return nil, ptzUnavailable(id)
	}
	key := sha256.Sum256([]byte(url + "\x00" + user + "\x00" + pass))
	r.mu.Lock()
	e, ok := r.handles[id]
	r.mu.Unlock()
	if ok && e.key == key && r.now().Sub(e.at) < r.ttl {
		return &cachedPTZ{r: r, id: id, key: key, h: e.h}, nil
	}
	cctx, cancel := context.WithTimeout(ctx, r.connectTimeout)
	defer cancel()
	h, _, err := onvif.Connect(cctx, onvif.NewClient(url, user, pass))
	if err != nil {
		r.forget(id, nil)
		return nil, &problem.Error{Status: http.StatusBadGateway, Code: "live.ptz_failed",
			Params: problem.P{"id": id, "error": "ONVIF connect: " + err.Error()}, Err: err}
	}
	r.mu.Lock()
	r.handles[id] = ptzEntry{key: key, h: h, at: r.now()}
	r.mu.Unlock()
	return &cachedPTZ{r: r, id: id, key: key, h: h}, nil
}

// forget drops camera id's handle; with key, only if it is still the one
// made from those settings.
func (r *ptzResolver) forget(id string, key *[32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.handles[id]; ok && (key == nil || e.key == *key) {
		delete(r.handles, id)
	}
}

// cachedPTZ is a cached handle that drops itself from the cache when a
// command fails (the device may have restarted, changed its profiles or
// its clock), so the next command reconnects.
type cachedPTZ struct {
	r   *ptzResolver
	id  string
	key [32]byte
	h   onvif.PTZHandle
}

func (c *cachedPTZ) check(err error) error {
	if err != nil {
		c.r.forget(c.id, &c.key)
	}
	return err
}

func (c *cachedPTZ) ContinuousMove(ctx context.Context, pan, tilt, zoom float64, timeout time.Duration) error {
	return c.check(c.h.ContinuousMove(ctx, pan, tilt, zoom, timeout))
}

func (c *cachedPTZ) Stop(ctx context.Context) error { return c.check(c.h.Stop(ctx)) }

func (c *cachedPTZ) GotoPreset(ctx context.Context, token string) error {
	return c.check(c.h.GotoPreset(ctx, token))
}

func (c *cachedPTZ) SetPreset(ctx context.Context, name, token string) (string, error) {
	t, err := c.h.SetPreset(ctx, name, token)
	return t, c.check(err)
}
