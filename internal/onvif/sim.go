package onvif

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SimOptions configure a simulated ONVIF device.
type SimOptions struct {
	// Username and Password are required of every call but
	// GetSystemDateAndTime (WS-Security digest); empty means no checks.
	Username, Password string
	// StreamURI returns the RTSP URL of a profile ("Profile_1" main,
	// "Profile_2" sub) for a request that reached host (the Host header);
	// default rtsp://HOST-without-port:8554/cam1.
	StreamURI func(host, profile string) string
	// Name and Hardware appear in the discovery scopes.
	Name, Hardware string
	// Now is the device clock (default time.Now).
	Now func() time.Time
	// Prefix is the services' path prefix in the addresses the device
	// announces (default "/onvif"; "/onvif/cam2" serves one device per
	// simulated camera from one HTTP server).
	Prefix string
}

// SimServer is a simulated ONVIF device: Device, Media and PTZ services
// on PREFIX/device_service, PREFIX/media_service and PREFIX/ptz_service
// (any path is served: the operation decides).
// It keeps a PTZ position that continuous moves change over time, and
// presets. Safe for concurrent use.
type SimServer struct {
	opts SimOptions

	mu        sync.Mutex
	pos       Vector
	vel       Vector
	moveStart time.Time
	moveUntil time.Time
	presets   []Preset
	nextToken int
	nonces    map[string]time.Time
	calls     map[string]int
}

// NewSimServer returns a simulated device.
func NewSimServer(opts SimOptions) *SimServer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		opts.Name = "Vigil Sim PTZ"
	}
	if opts.Prefix == "" {
		opts.Prefix = "/onvif"
	}
	if opts.Hardware == "" {
		opts.Hardware = "VIGIL-SIM-1"
	}
	return &SimServer{opts: opts, nextToken: 1, nonces: map[string]time.Time{}, calls: map[string]int{}}
}

// simRequest is a parsed SOAP request to the simulator.
type simRequest struct {
	Op       string // local name of the body's element
	Username string
	Digest   string
	Nonce    string
	Created  string
	Body     simBody
}

type simBody struct {
	ProfileToken string `xml:"ProfileToken"`
	PresetToken  string `xml:"PresetToken"`
	PresetName   string `xml:"PresetName"`
	Velocity     struct {
		PanTilt struct {
			X float64 `xml:"x,attr"`
			Y float64 `xml:"y,attr"`
		} `xml:"PanTilt"`
		Zoom struct {
			X float64 `xml:"x,attr"`
		} `xml:"Zoom"`
	} `xml:"Velocity"`
	Timeout string `xml:"Timeout"`
}

// parseSimRequest reads a SOAP request envelope.
func parseSimRequest(data []byte) (simRequest, error) {
	var env struct {
		Header struct {
			Security struct {
				Token struct {
					Username string `xml:"Username"`
					Password string `xml:"Password"`
					Nonce    string `xml:"Nonce"`
					Created  string `xml:"Created"`
				} `xml:"UsernameToken"`
			} `xml:"Security"`
		} `xml:"Header"`
		Body struct {
			Inner []byte `xml:",innerxml"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(data, &env); err != nil {
		return simRequest{}, fmt.Errorf("request: %w", err)
	}
	tok := env.Header.Security.Token
	r := simRequest{Username: strings.TrimSpace(tok.Username), Digest: strings.TrimSpace(tok.Password),
		Nonce: strings.TrimSpace(tok.Nonce), Created: strings.TrimSpace(tok.Created)}
	dec := xml.NewDecoder(bytes.NewReader(env.Body.Inner))
	for {
		t, err := dec.Token()
		if err != nil {
			return r, fmt.Errorf("request: no operation in the body")
		}
		if se, ok := t.(xml.StartElement); ok {
			r.Op = se.Name.Local
			if err := dec.DecodeElement(&r.Body, &se); err != nil {
				return r, fmt.Errorf("request %s: %w", r.Op, err)
			}
			return r, nil
		}
	}
}

// ServeHTTP answers one SOAP call.
func (s *SimServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "SOAP wants POST", http.StatusMethodNotAllowed)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	req, err := parseSimRequest(data)
	if err != nil {
		writeFault(w, http.StatusBadRequest, "Sender", "ter:WellFormed", err.Error())
		return
	}
	if req.Op != "GetSystemDateAndTime" {
		if err := s.authenticate(req); err != nil {
			writeFault(w, http.StatusBadRequest, "Sender", "ter:NotAuthorized", err.Error())
			return
		}
	}
	s.mu.Lock()
	s.calls[req.Op]++
	s.mu.Unlock()
	body, fault := s.dispatch(r, req)
	if fault != nil {
		writeFault(w, http.StatusBadRequest, fault.Code, "ter:"+fault.Subcode, fault.Reason)
		return
	}
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<env:Envelope xmlns:env="` + nsSOAP + `" xmlns:tt="` + nsSchema + `" xmlns:tds="` + nsDevice + `" xmlns:trt="` + nsMedia +
		`" xmlns:tptz="` + nsPTZ + `"><env:Body>` + body + `</env:Body></env:Envelope>`))
}

// authenticate checks the UsernameToken digest, the created time (±5
// minutes of the device clock) and that the nonce is fresh.
func (s *SimServer) authenticate(r simRequest) error {
	if s.opts.Username == "" {
		return nil
	}
	if r.Username == "" {
		return fmt.Errorf("no UsernameToken")
	}
	nonce, err := base64.StdEncoding.DecodeString(r.Nonce)
	if err != nil {
		return fmt.Errorf("nonce is not base64")
	}
	created, err := time.Parse(time.RFC3339Nano, r.Created)
	now := s.opts.Now()
	if err != nil || created.Sub(now).Abs() > 5*time.Minute {
		return fmt.Errorf("created time %q is not within 5 minutes of the device clock", r.Created)
	}
	want := PasswordDigest(nonce, r.Created, s.opts.Password)
	if r.Username != s.opts.Username || subtle.ConstantTimeCompare([]byte(want), []byte(r.Digest)) != 1 {
		return fmt.Errorf("wrong username or password")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.nonces[r.Nonce]; seen {
		return fmt.Errorf("nonce replayed")
	}
	for n, t := range s.nonces {
		if now.Sub(t) > 10*time.Minute {
			delete(s.nonces, n)
		}
	}
	s.nonces[r.Nonce] = now
	return nil
}

// Calls returns how many times operation op was served.
func (s *SimServer) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Status returns the simulated PTZ position and whether it moves.
func (s *SimServer) Status() PTZStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	return PTZStatus{Position: s.positionLocked(now), Moving: s.movingLocked(now)}
}

// movingSpeed is how far (in generic units per second) a velocity of 1
// moves.
const movingSpeed = 0.5

func (s *SimServer) movingLocked(now time.Time) bool {
	return s.vel != (Vector{}) && now.Before(s.moveUntil)
}

func (s *SimServer) positionLocked(now time.Time) Vector {
	if s.vel == (Vector{}) {
		return s.pos
	}
	end := now
	if end.After(s.moveUntil) {
		end = s.moveUntil
	}
	dt := end.Sub(s.moveStart).Seconds()
	if dt < 0 {
		dt = 0
	}
	return Vector{Pan: clamp(s.pos.Pan+s.vel.Pan*movingSpeed*dt, -1, 1), Tilt: clamp(s.pos.Tilt+s.vel.Tilt*movingSpeed*dt, -1, 1),
		Zoom: clamp(s.pos.Zoom+s.vel.Zoom*movingSpeed*dt, 0, 1)}
}

// settleLocked fixes the position reached so far and stops.
func (s *SimServer) settleLocked(now time.Time) {
	s.pos = s.positionLocked(now)
	s.vel = Vector{}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
