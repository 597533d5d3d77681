package onvif

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Capabilities are the service addresses a device announces.
type Capabilities struct {
	Device, Media, PTZ, Events, Imaging string
}

// GetCapabilities asks the device for its service addresses and keeps the
// Media and PTZ ones in the client.
func (c *Client) GetCapabilities(ctx context.Context) (Capabilities, error) {
	var r struct {
		Resp struct {
			Caps struct {
				Device  xaddr `xml:"Device"`
				Media   xaddr `xml:"Media"`
				PTZ     xaddr `xml:"PTZ"`
				Events  xaddr `xml:"Events"`
				Imaging xaddr `xml:"Imaging"`
			} `xml:"Capabilities"`
		} `xml:"GetCapabilitiesResponse"`
	}
	body := `<tds:GetCapabilities xmlns:tds="` + nsDevice + `"><tds:Category>All</tds:Category></tds:GetCapabilities>`
	if err := c.call(ctx, c.DeviceURL, nsDevice+"/GetCapabilities", body, true, &r); err != nil {
		return Capabilities{}, err
	}
	cp := r.Resp.Caps
	caps := Capabilities{Device: cp.Device.trim(), Media: cp.Media.trim(), PTZ: cp.PTZ.trim(), Events: cp.Events.trim(), Imaging: cp.Imaging.trim()}
	if caps.Media == "" {
		return caps, fmt.Errorf("onvif GetCapabilities: the device announces no media service")
	}
	c.MediaURL, c.PTZURL = caps.Media, caps.PTZ
	return caps, nil
}

type xaddr struct {
	XAddr string `xml:"XAddr"`
}

func (x xaddr) trim() string { return strings.TrimSpace(x.XAddr) }

// Service is one entry of GetServices.
type Service struct {
	Namespace string
	XAddr     string
	Version   string // "major.minor"
}

// GetServices lists the device's services (ONVIF 2.x devices).
func (c *Client) GetServices(ctx context.Context) ([]Service, error) {
	var r struct {
		Resp struct {
			Services []struct {
				Namespace string `xml:"Namespace"`
				XAddr     string `xml:"XAddr"`
				Version   struct {
					Major int `xml:"Major"`
					Minor int `xml:"Minor"`
				} `xml:"Version"`
			} `xml:"Service"`
		} `xml:"GetServicesResponse"`
	}
	body := `<tds:GetServices xmlns:tds="` + nsDevice + `"><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`
	if err := c.call(ctx, c.DeviceURL, nsDevice+"/GetServices", body, true, &r); err != nil {
		return nil, err
	}
	var out []Service
	for _, s := range r.Resp.Services {
		out = append(out, Service{Namespace: strings.TrimSpace(s.Namespace), XAddr: strings.TrimSpace(s.XAddr),
			Version: fmt.Sprintf("%d.%d", s.Version.Major, s.Version.Minor)})
	}
	return out, nil
}

// GetSystemDateAndTime returns the device's UTC clock (asked without
// credentials, as the standard allows, so the token can follow it).
func (c *Client) GetSystemDateAndTime(ctx context.Context) (time.Time, error) {
	var r struct {
		Resp struct {
			SDT struct {
				UTC struct {
					Time struct {
						Hour   int `xml:"Hour"`
						Minute int `xml:"Minute"`
						Second int `xml:"Second"`
					} `xml:"Time"`
					Date struct {
						Year  int `xml:"Year"`
						Month int `xml:"Month"`
						Day   int `xml:"Day"`
					} `xml:"Date"`
				} `xml:"UTCDateTime"`
			} `xml:"SystemDateAndTime"`
		} `xml:"GetSystemDateAndTimeResponse"`
	}
	body := `<tds:GetSystemDateAndTime xmlns:tds="` + nsDevice + `"/>`
	if err := c.call(ctx, c.DeviceURL, nsDevice+"/GetSystemDateAndTime", body, false, &r); err != nil {
		return time.Time{}, err
	}
	u := r.Resp.SDT.UTC
	if u.Date.Year == 0 {
		return time.Time{}, fmt.Errorf("onvif GetSystemDateAndTime: no UTC date in the answer")
	}
	return time.Date(u.Date.Year, time.Month(u.Date.Month), u.Date.Day, u.Time.Hour, u.Time.Minute, u.Time.Second, 0, time.UTC), nil
}

// SyncClock measures the device's clock offset and uses it for the
// tokens' Created time: devices refuse tokens created too far from their
// own clock.
func (c *Client) SyncClock(ctx context.Context) error {
	t, err := c.GetSystemDateAndTime(ctx)
	if err != nil {
		return err
	}
	c.ClockOffset = t.Sub(time.Now().Truncate(time.Second))
	return nil
}
