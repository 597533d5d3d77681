package live

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
)

// PTZAction is what a PTZ command does.
type PTZAction string

// The PTZ actions (MED-3).
const (
	PTZMove       PTZAction = "move"        // continuous move at the given velocities
	PTZStop       PTZAction = "stop"        // stop pan, tilt and zoom
	PTZGotoPreset PTZAction = "goto_preset" // move to a preset
	PTZSetPreset  PTZAction = "set_preset"  // store the current position as a preset
)

// PTZCommand is one PTZ request. Velocities are in [-1, 1] (the ONVIF
// generic velocity space); a move stops by itself after Timeout (default
// 1 s, at most 60 s) so a lost "stop" cannot leave a camera turning.
type PTZCommand struct {
	Action  PTZAction     `json:"action"`
	Pan     float64       `json:"pan"`
	Tilt    float64       `json:"tilt"`
	Zoom    float64       `json:"zoom"`
	Preset  string        `json:"preset,omitempty"` // preset token (goto_preset; set_preset to overwrite one)
	Name    string        `json:"name,omitempty"`   // preset name (set_preset)
	Timeout time.Duration `json:"-"`
}

// PTZResult is what a PTZ command answered.
type PTZResult struct {
	Action PTZAction `json:"action"`
	Preset string    `json:"preset,omitempty"` // the token of a preset set
}

// PTZController drives one camera's PTZ (an ONVIF PTZ service and media
// profile, see onvif.PTZHandle).
type PTZController interface {
	ContinuousMove(ctx context.Context, pan, tilt, zoom float64, timeout time.Duration) error
	Stop(ctx context.Context) error
	GotoPreset(ctx context.Context, token string) error
	SetPreset(ctx context.Context, name, token string) (string, error)
}

// PTZResolver finds a camera's PTZ controller; a camera without PTZ
// returns a *problem.Error.
type PTZResolver interface {
	PTZ(ctx context.Context, cameraID string) (PTZController, error)
}

// Validate checks the command's fields.
func (c *PTZCommand) Validate() error {
	bad := func(field, msg string) error {
		return problem.Invalid("live.ptz_invalid", field, problem.P{"field": field, "error": msg})
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"pan", c.Pan}, {"tilt", c.Tilt}, {"zoom", c.Zoom}} {
		if math.IsNaN(v.v) || v.v < -1 || v.v > 1 {
			return bad(v.name, "a velocity between -1 and 1")
		}
	}
	switch c.Action {
	case PTZMove:
		if c.Pan == 0 && c.Tilt == 0 && c.Zoom == 0 {
			return bad("pan", "a move needs a non-zero pan, tilt or zoom")
		}
	case PTZStop:
	case PTZGotoPreset:
		if c.Preset == "" {
			return bad("preset", "the preset token to go to")
		}
	case PTZSetPreset:
		if c.Name == "" && c.Preset == "" {
			return bad("name", "a name for the new preset")
		}
	default:
		return bad("action", "one of move, stop, goto_preset, set_preset")
	}
	if len(c.Name) > 64 || len(c.Preset) > 64 {
		return bad("name", "at most 64 characters")
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	c.Timeout = min(c.Timeout, time.Minute)
	return nil
}

// PTZ runs cmd on camera id after the gate has allowed it (policy.PTZ,
// audited by the gate with the command in the method).
func (s *Service) PTZ(ctx context.Context, subj *policy.Subject, id string, cmd PTZCommand) (PTZResult, error) {
	// The gate first: a refused subject learns nothing of the camera's
	// PTZ set-up, and its refusal is audited whatever the command.
	if _, _, err := s.decide(ctx, subj, id, policy.PTZ, "", "onvif:"+string(cmd.Action)); err != nil {
		return PTZResult{}, err
	}
	if err := cmd.Validate(); err != nil {
		return PTZResult{}, err
	}
	if s.opts.PTZ == nil {
		return PTZResult{}, &problem.Error{Status: http.StatusNotImplemented, Code: "live.ptz_unavailable", Params: problem.P{"id": id}}
	}
	ctl, err := s.opts.PTZ.PTZ(ctx, id)
	if err != nil {
		return PTZResult{}, err
	}
	res := PTZResult{Action: cmd.Action}
	switch cmd.Action {
	case PTZMove:
		err = ctl.ContinuousMove(ctx, cmd.Pan, cmd.Tilt, cmd.Zoom, cmd.Timeout)
	case PTZStop:
		err = ctl.Stop(ctx)
	case PTZGotoPreset:
		err = ctl.GotoPreset(ctx, cmd.Preset)
	case PTZSetPreset:
		res.Preset, err = ctl.SetPreset(ctx, cmd.Name, cmd.Preset)
	}
	if err != nil {
		return PTZResult{}, &problem.Error{Status: http.StatusBadGateway, Code: "live.ptz_failed",
			Params: problem.P{"id": id, "error": err.Error()}, Err: fmt.Errorf("ptz %s on %s: %w", cmd.Action, id, err)}
	}
	return res, nil
}

// PTZFunc adapts a function to PTZResolver.
type PTZFunc func(ctx context.Context, cameraID string) (PTZController, error)

// PTZ calls f.
func (f PTZFunc) PTZ(ctx context.Context, cameraID string) (PTZController, error) {
	return f(ctx, cameraID)
}
