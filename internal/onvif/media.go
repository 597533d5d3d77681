package onvif

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
)

// Profile is a media profile: a video encoder configuration and, on PTZ
// cameras, a PTZ configuration.
type Profile struct {
	Token    string
	Name     string
	Encoding string // H264, H265, JPEG, MPEG4
	Width    int
	Height   int
	FPS      int
	Bitrate  int    // kbit/s
	PTZToken string // the PTZ configuration's token; "" without PTZ
}

// profileXML is trt:Profiles (media 1.0) by local names.
type profileXML struct {
	Token string `xml:"token,attr"`
	Name  string `xml:"Name"`
	VEC   *struct {
		Encoding   string `xml:"Encoding"`
		Resolution struct {
			Width  int `xml:"Width"`
			Height int `xml:"Height"`
		} `xml:"Resolution"`
		RateControl struct {
			FrameRateLimit int `xml:"FrameRateLimit"`
			BitrateLimit   int `xml:"BitrateLimit"`
		} `xml:"RateControl"`
	} `xml:"VideoEncoderConfiguration"`
	PTZ *struct {
		Token string `xml:"token,attr"`
	} `xml:"PTZConfiguration"`
}

// ParseProfiles decodes a GetProfiles SOAP response.
func ParseProfiles(data []byte, status int) ([]Profile, error) {
	var r profilesResp
	if err := ParseResponse(data, status, &r); err != nil {
		return nil, err
	}
	return r.profiles()
}

type profilesResp struct {
	Resp struct {
		Profiles []profileXML `xml:"Profiles"`
	} `xml:"GetProfilesResponse"`
}

func (r *profilesResp) profiles() ([]Profile, error) {
	var out []Profile
	for _, p := range r.Resp.Profiles {
		if strings.TrimSpace(p.Token) == "" {
			return nil, fmt.Errorf("a profile without a token")
		}
		q := Profile{Token: strings.TrimSpace(p.Token), Name: strings.TrimSpace(p.Name)}
		if p.VEC != nil {
			q.Encoding = strings.TrimSpace(p.VEC.Encoding)
			q.Width, q.Height = p.VEC.Resolution.Width, p.VEC.Resolution.Height
			q.FPS, q.Bitrate = p.VEC.RateControl.FrameRateLimit, p.VEC.RateControl.BitrateLimit
		}
		if p.PTZ != nil {
			q.PTZToken = p.PTZ.Token
		}
		out = append(out, q)
	}
	return out, nil
}

// GetProfiles lists the media profiles.
func (c *Client) GetProfiles(ctx context.Context) ([]Profile, error) {
	var r profilesResp
	body := `<trt:GetProfiles xmlns:trt="` + nsMedia + `"/>`
	if err := c.call(ctx, c.MediaURL, nsMedia+"/GetProfiles", body, true, &r); err != nil {
		return nil, err
	}
	ps, err := r.profiles()
	if err != nil {
		return nil, fmt.Errorf("onvif GetProfiles: %w", err)
	}
	return ps, nil
}

// StreamURI is a profile's media URI.
type StreamURI struct {
	URI     string
	Timeout string // xs:duration, e.g. PT0S
}

type streamURIResp struct {
	Resp struct {
		MediaURI struct {
			URI     string `xml:"Uri"`
			Timeout string `xml:"Timeout"`
		} `xml:"MediaUri"`
	} `xml:"GetStreamUriResponse"`
}

// ParseStreamURI decodes a GetStreamUri SOAP response.
func ParseStreamURI(data []byte, status int) (StreamURI, error) {
	var r streamURIResp
	if err := ParseResponse(data, status, &r); err != nil {
		return StreamURI{}, err
	}
	return r.uri()
}

func (r *streamURIResp) uri() (StreamURI, error) {
	u := StreamURI{URI: strings.TrimSpace(r.Resp.MediaURI.URI), Timeout: strings.TrimSpace(r.Resp.MediaURI.Timeout)}
	if u.URI == "" {
		return u, fmt.Errorf("no Uri in the answer")
	}
	return u, nil
}

// GetStreamUri returns the RTSP URL (RTP unicast over RTSP) of a profile.
func (c *Client) GetStreamUri(ctx context.Context, profileToken string) (StreamURI, error) {
	var b strings.Builder
	b.WriteString(`<trt:GetStreamUri xmlns:trt="` + nsMedia + `"><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>` +
		`<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>`)
	xml.EscapeText(&b, []byte(profileToken))
	b.WriteString(`</trt:ProfileToken></trt:GetStreamUri>`)
	var r streamURIResp
	if err := c.call(ctx, c.MediaURL, nsMedia+"/GetStreamUri", b.String(), true, &r); err != nil {
		return StreamURI{}, err
	}
	u, err := r.uri()
	if err != nil {
		return u, fmt.Errorf("onvif GetStreamUri: %w", err)
	}
	return u, nil
}
