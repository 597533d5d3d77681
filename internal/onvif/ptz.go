package onvif

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Vector is a PTZ position or velocity in the generic spaces: pan and tilt
// in [-1, 1], zoom in [0, 1] for positions and [-1, 1] for velocities.
type Vector struct {
	Pan, Tilt, Zoom float64
}

// Preset is a stored PTZ position.
type Preset struct {
	Token    string
	Name     string
	Position *Vector // nil when the device does not say
}

// PTZStatus is the current position and whether it is moving.
type PTZStatus struct {
	Position Vector
	Moving   bool
}

func ptzBody(op, profile, inner string) string {
	var b strings.Builder
	b.WriteString(`<tptz:` + op + ` xmlns:tptz="` + nsPTZ + `"><tptz:ProfileToken>`)
	xml.EscapeText(&b, []byte(profile))
	b.WriteString(`</tptz:ProfileToken>` + inner + `</tptz:` + op + `>`)
	return b.String()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// duration formats d as an xs:duration ("PT1.5S").
func duration(d time.Duration) string { return "PT" + f(d.Seconds()) + "S" }

// ContinuousMove starts moving at velocity v; the device stops by itself
// after timeout (when > 0).
func (c *Client) ContinuousMove(ctx context.Context, profile string, v Vector, timeout time.Duration) error {
	inner := `<tptz:Velocity><tt:PanTilt x="` + f(v.Pan) + `" y="` + f(v.Tilt) + `"/><tt:Zoom x="` + f(v.Zoom) + `"/></tptz:Velocity>`
	if timeout > 0 {
		inner += `<tptz:Timeout>` + duration(timeout) + `</tptz:Timeout>`
	}
	return c.call(ctx, c.PTZURL, nsPTZ+"/ContinuousMove", ptzBody("ContinuousMove", profile, inner), true, nil)
}

// Stop stops pan, tilt and zoom.
func (c *Client) Stop(ctx context.Context, profile string) error {
	return c.call(ctx, c.PTZURL, nsPTZ+"/Stop", ptzBody("Stop", profile, `<tptz:PanTilt>true</tptz:PanTilt><tptz:Zoom>true</tptz:Zoom>`), true, nil)
}

// GotoPreset moves to a preset.
func (c *Client) GotoPreset(ctx context.Context, profile, preset string) error {
	return c.call(ctx, c.PTZURL, nsPTZ+"/GotoPreset", ptzBody("GotoPreset", profile, `<tptz:PresetToken>`+esc(preset)+`</tptz:PresetToken>`), true, nil)
}

// SetPreset stores the current position under name (overwriting preset
// token when given) and returns the preset's token.
func (c *Client) SetPreset(ctx context.Context, profile, name, token string) (string, error) {
	inner := ""
	if name != "" {
		inner += `<tptz:PresetName>` + esc(name) + `</tptz:PresetName>`
	}
	if token != "" {
		inner += `<tptz:PresetToken>` + esc(token) + `</tptz:PresetToken>`
	}
	var r struct {
		Resp struct {
			Token string `xml:"PresetToken"`
		} `xml:"SetPresetResponse"`
	}
	if err := c.call(ctx, c.PTZURL, nsPTZ+"/SetPreset", ptzBody("SetPreset", profile, inner), true, &r); err != nil {
		return "", err
	}
	if t := strings.TrimSpace(r.Resp.Token); t != "" {
		return t, nil
	}
	return "", fmt.Errorf("onvif SetPreset: no PresetToken in the answer")
}

type presetsResp struct {
	Resp struct {
		Presets []struct {
			Token    string       `xml:"token,attr"`
			Name     string       `xml:"Name"`
			Position *positionXML `xml:"PTZPosition"`
		} `xml:"Preset"`
	} `xml:"GetPresetsResponse"`
}

type positionXML struct {
	PanTilt *struct {
		X string `xml:"x,attr"`
		Y string `xml:"y,attr"`
	} `xml:"PanTilt"`
	Zoom *struct {
		X string `xml:"x,attr"`
	} `xml:"Zoom"`
}

func (p *positionXML) vector() (Vector, error) {
	var v Vector
	var err error
	num := func(s string) float64 {
		if err != nil {
			return 0
		}
		var x float64
		x, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
		return x
	}
	if p.PanTilt != nil {
		v.Pan, v.Tilt = num(p.PanTilt.X), num(p.PanTilt.Y)
	}
	if p.Zoom != nil {
		v.Zoom = num(p.Zoom.X)
	}
	if err != nil {
		return v, fmt.Errorf("position: %w", err)
	}
	return v, nil
}

// ParsePresets decodes a GetPresets SOAP response.
func ParsePresets(data []byte, status int) ([]Preset, error) {
	var r presetsResp
	if err := ParseResponse(data, status, &r); err != nil {
		return nil, err
	}
	return r.presets()
}

func (r *presetsResp) presets() ([]Preset, error) {
	var out []Preset
	for _, p := range r.Resp.Presets {
		q := Preset{Token: strings.TrimSpace(p.Token), Name: strings.TrimSpace(p.Name)}
		if q.Token == "" {
			return nil, fmt.Errorf("a preset without a token")
		}
		if p.Position != nil {
			v, err := p.Position.vector()
			if err != nil {
				return nil, fmt.Errorf("preset %s: %w", q.Token, err)
			}
			q.Position = &v
		}
		out = append(out, q)
	}
	return out, nil
}

// GetPresets lists the presets of a profile.
func (c *Client) GetPresets(ctx context.Context, profile string) ([]Preset, error) {
	var r presetsResp
	if err := c.call(ctx, c.PTZURL, nsPTZ+"/GetPresets", ptzBody("GetPresets", profile, ""), true, &r); err != nil {
		return nil, err
	}
	ps, err := r.presets()
	if err != nil {
		return nil, fmt.Errorf("onvif GetPresets: %w", err)
	}
	return ps, nil
}

// GetStatus returns the position and move status.
func (c *Client) GetStatus(ctx context.Context, profile string) (PTZStatus, error) {
	var r struct {
		Resp struct {
			Status struct {
				Position   positionXML `xml:"Position"`
				MoveStatus struct {
					PanTilt string `xml:"PanTilt"`
					Zoom    string `xml:"Zoom"`
				} `xml:"MoveStatus"`
			} `xml:"PTZStatus"`
		} `xml:"GetStatusResponse"`
	}
	if err := c.call(ctx, c.PTZURL, nsPTZ+"/GetStatus", ptzBody("GetStatus", profile, ""), true, &r); err != nil {
		return PTZStatus{}, err
	}
	st := r.Resp.Status
	v, err := st.Position.vector()
	if err != nil {
		return PTZStatus{}, fmt.Errorf("onvif GetStatus: %w", err)
	}
	moving := strings.EqualFold(strings.TrimSpace(st.MoveStatus.PanTilt), "MOVING") || strings.EqualFold(strings.TrimSpace(st.MoveStatus.Zoom), "MOVING")
	return PTZStatus{Position: v, Moving: moving}, nil
}

// PTZHandle drives one camera's PTZ through one media profile; it
// satisfies live.PTZController.
type PTZHandle struct {
	Client  *Client
	Profile string
}

// ContinuousMove moves at the given velocities until timeout.
func (h PTZHandle) ContinuousMove(ctx context.Context, pan, tilt, zoom float64, timeout time.Duration) error {
	return h.Client.ContinuousMove(ctx, h.Profile, Vector{Pan: pan, Tilt: tilt, Zoom: zoom}, timeout)
}

// Stop stops all movement.
func (h PTZHandle) Stop(ctx context.Context) error { return h.Client.Stop(ctx, h.Profile) }

// GotoPreset moves to a preset.
func (h PTZHandle) GotoPreset(ctx context.Context, token string) error {
	return h.Client.GotoPreset(ctx, h.Profile, token)
}

// SetPreset stores the current position.
func (h PTZHandle) SetPreset(ctx context.Context, name, token string) (string, error) {
	return h.Client.SetPreset(ctx, h.Profile, name, token)
}

// Connect asks a device for its services and profiles and returns a
// handle on the first profile with a PTZ configuration (or the first
// profile), with the profile list.
func Connect(ctx context.Context, c *Client) (PTZHandle, []Profile, error) {
	if err := c.SyncClock(ctx); err != nil {
		// Not every device answers without credentials; carry on with
		// the local clock.
		c.ClockOffset = 0
	}
	if _, err := c.GetCapabilities(ctx); err != nil {
		return PTZHandle{}, nil, err
	}
	ps, err := c.GetProfiles(ctx)
	if err != nil {
		return PTZHandle{}, nil, err
	}
	if len(ps) == 0 {
		return PTZHandle{}, nil, fmt.Errorf("onvif: the device has no media profile")
	}
	h := PTZHandle{Client: c, Profile: ps[0].Token}
	for _, p := range ps {
		if p.PTZToken != "" {
			h.Profile = p.Token
			break
		}
	}
	return h, ps, nil
}
