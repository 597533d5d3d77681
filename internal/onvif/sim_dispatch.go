package onvif

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// simProfiles are the simulated media profiles: main stream with PTZ,
// sub stream without.
var simProfiles = []struct {
	token, name string
	w, h, kbps  int
	ptz         bool
}{
	{"Profile_1", "mainStream", 1280, 720, 2048, true},
	{"Profile_2", "subStream", 640, 360, 512, false},
}

// dispatch serves one authenticated operation, returning the response
// element or a fault.
func (s *SimServer) dispatch(r *http.Request, req simRequest) (string, *Fault) {
	base := "http://" + r.Host + s.opts.Prefix
	now := s.opts.Now()
	switch req.Op {
	case "GetSystemDateAndTime":
		u := now.UTC()
		return fmt.Sprintf(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>`+
			`<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>`+
			`<tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time>`+
			`<tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime>`+
			`</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`, u.Hour(), u.Minute(), u.Second(), u.Year(), int(u.Month()), u.Day()), nil
	case "GetCapabilities":
		return `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
			`<tt:Device><tt:XAddr>` + base + `/device_service</tt:XAddr></tt:Device>` +
			`<tt:Media><tt:XAddr>` + base + `/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
			`<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
			`<tt:PTZ><tt:XAddr>` + base + `/ptz_service</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`, nil
	case "GetServices":
		svc := func(ns, path, major, minor string) string {
			return `<tds:Service><tds:Namespace>` + ns + `</tds:Namespace><tds:XAddr>` + base + path + `</tds:XAddr>` +
				`<tds:Version><tt:Major>` + major + `</tt:Major><tt:Minor>` + minor + `</tt:Minor></tds:Version></tds:Service>`
		}
		return `<tds:GetServicesResponse>` + svc(nsDevice, "/device_service", "2", "60") + svc(nsMedia, "/media_service", "2", "60") +
			svc(nsPTZ, "/ptz_service", "2", "60") + `</tds:GetServicesResponse>`, nil
	case "GetProfiles":
		var b strings.Builder
		b.WriteString(`<trt:GetProfilesResponse>`)
		for _, p := range simProfiles {
			fmt.Fprintf(&b, `<trt:Profiles token="%s" fixed="true"><tt:Name>%s</tt:Name>`+
				`<tt:VideoEncoderConfiguration token="VideoEncoder_%s"><tt:Name>%s</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>`+
				`<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>`+
				`<tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>%d</tt:BitrateLimit></tt:RateControl>`+
				`<tt:H264><tt:GovLength>25</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264></tt:VideoEncoderConfiguration>`,
				p.token, p.name, p.token, p.name, p.w, p.h, p.kbps)
			if p.ptz {
				b.WriteString(`<tt:PTZConfiguration token="PTZToken"><tt:Name>PTZ</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNodeToken</tt:NodeToken>` +
					`<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>` +
					`<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></tt:PTZConfiguration>`)
			}
			b.WriteString(`</trt:Profiles>`)
		}
		b.WriteString(`</trt:GetProfilesResponse>`)
		return b.String(), nil
	case "GetStreamUri":
		if !knownProfile(req.Body.ProfileToken) {
			return "", noProfile(req.Body.ProfileToken)
		}
		uri := ""
		if s.opts.StreamURI != nil {
			uri = s.opts.StreamURI(r.Host, req.Body.ProfileToken)
		} else {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			uri = "rtsp://" + host + ":8554/cam1"
		}
		return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>` + esc(uri) + `</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
			`<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`, nil
	}
	return s.dispatchPTZ(req, now)
}

func (s *SimServer) dispatchPTZ(req simRequest, now time.Time) (string, *Fault) {
	switch req.Op {
	case "ContinuousMove", "Stop", "GotoPreset", "SetPreset", "GetPresets", "GetStatus", "RemovePreset":
	default:
		return "", &Fault{Code: "Receiver", Subcode: "ActionNotSupported", Reason: "operation " + req.Op + " is not supported"}
	}
	if req.Body.ProfileToken != "Profile_1" {
		return "", noProfile(req.Body.ProfileToken)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Op {
	case "ContinuousMove":
		v := Vector{Pan: req.Body.Velocity.PanTilt.X, Tilt: req.Body.Velocity.PanTilt.Y, Zoom: req.Body.Velocity.Zoom.X}
		for _, x := range []float64{v.Pan, v.Tilt, v.Zoom} {
			if x < -1 || x > 1 {
				return "", &Fault{Code: "Sender", Subcode: "InvalidVelocity", Reason: "velocity outside the generic space"}
			}
		}
		timeout := 5 * time.Second
		if req.Body.Timeout != "" {
			d, err := parseDuration(req.Body.Timeout)
			if err != nil {
				return "", &Fault{Code: "Sender", Subcode: "InvalidArgVal", Reason: err.Error()}
			}
			timeout = d
		}
		s.settleLocked(now)
		s.vel, s.moveStart, s.moveUntil = v, now, now.Add(timeout)
		return `<tptz:ContinuousMoveResponse/>`, nil
	case "Stop":
		s.settleLocked(now)
		return `<tptz:StopResponse/>`, nil
	case "GotoPreset":
		for _, p := range s.presets {
			if p.Token == req.Body.PresetToken {
				s.settleLocked(now)
				s.pos = *p.Position
				return `<tptz:GotoPresetResponse/>`, nil
			}
		}
		return "", &Fault{Code: "Sender", Subcode: "NoToken", Reason: "no preset " + req.Body.PresetToken}
	case "SetPreset":
		pos := s.positionLocked(now)
		tok := strings.TrimSpace(req.Body.PresetToken)
		name := strings.TrimSpace(req.Body.PresetName)
		for i, p := range s.presets {
			if tok != "" && p.Token == tok {
				s.presets[i].Position = &pos
				if name != "" {
					s.presets[i].Name = name
				}
				return `<tptz:SetPresetResponse><tptz:PresetToken>` + esc(tok) + `</tptz:PresetToken></tptz:SetPresetResponse>`, nil
			}
			if name != "" && p.Name == name {
				return "", &Fault{Code: "Sender", Subcode: "PresetExist", Reason: "a preset named " + name + " exists"}
			}
		}
		if tok != "" {
			return "", &Fault{Code: "Sender", Subcode: "NoToken", Reason: "no preset " + tok}
		}
		if len(s.presets) >= 256 {
			return "", &Fault{Code: "Receiver", Subcode: "TooManyPresets", Reason: "256 presets at most"}
		}
		tok = strconv.Itoa(s.nextToken)
		s.nextToken++
		s.presets = append(s.presets, Preset{Token: tok, Name: name, Position: &pos})
		return `<tptz:SetPresetResponse><tptz:PresetToken>` + tok + `</tptz:PresetToken></tptz:SetPresetResponse>`, nil
	case "GetPresets":
		var b strings.Builder
		b.WriteString(`<tptz:GetPresetsResponse>`)
		for _, p := range s.presets {
			fmt.Fprintf(&b, `<tptz:Preset token="%s"><tt:Name>%s</tt:Name><tt:PTZPosition><tt:PanTilt x="%s" y="%s" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>`+
				`<tt:Zoom x="%s" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/></tt:PTZPosition></tptz:Preset>`,
				esc(p.Token), esc(p.Name), f(p.Position.Pan), f(p.Position.Tilt), f(p.Position.Zoom))
		}
		b.WriteString(`</tptz:GetPresetsResponse>`)
		return b.String(), nil
	default: // GetStatus
		pos := s.positionLocked(now)
		mv := "IDLE"
		if s.movingLocked(now) {
			mv = "MOVING"
		}
		return `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="` + f(pos.Pan) + `" y="` + f(pos.Tilt) + `"/><tt:Zoom x="` + f(pos.Zoom) + `"/></tt:Position>` +
			`<tt:MoveStatus><tt:PanTilt>` + mv + `</tt:PanTilt><tt:Zoom>` + mv + `</tt:Zoom></tt:MoveStatus><tt:UtcTime>` + now.UTC().Format(time.RFC3339) + `</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`, nil
	}
}

func knownProfile(t string) bool {
	for _, p := range simProfiles {
		if p.token == t {
			return true
		}
	}
	return false
}

func noProfile(t string) *Fault {
	return &Fault{Code: "Sender", Subcode: "NoProfile", Reason: "no profile " + t}
}

// parseDuration reads the xs:duration forms PTZ timeouts use: PTnS,
// PTnMnS, PTnHnMnS (fractions allowed on seconds).
func parseDuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "PT")
	if !ok || rest == "" {
		return 0, fmt.Errorf("duration %q is not of the form PTnS", s)
	}
	var d time.Duration
	for rest != "" {
		i := strings.IndexAny(rest, "HMS")
		if i <= 0 {
			return 0, fmt.Errorf("duration %q is not of the form PTnS", s)
		}
		v, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || v < 0 || v > 1e6 {
			return 0, fmt.Errorf("duration %q: bad number", s)
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}[rest[i]]
		d += time.Duration(v * float64(unit))
		rest = rest[i+1:]
	}
	return d, nil
}

// writeFault answers a SOAP 1.2 fault.
func writeFault(w http.ResponseWriter, status int, code, subcode, reason string) {
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<env:Envelope xmlns:env="%s" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault>`+
		`<env:Code><env:Value>env:%s</env:Value><env:Subcode><env:Value>%s</env:Value></env:Subcode></env:Code>`+
		`<env:Reason><env:Text xml:lang="en">%s</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`, nsSOAP, code, esc(subcode), esc(reason))
}

// ServeDiscovery answers WS-Discovery probes arriving on conn with a
// ProbeMatch whose XAddr is xaddr (the device service URL), until ctx ends
// or conn is closed. To answer on the multicast group, pass a conn from
// net.ListenMulticastUDP("udp4", ifi, 239.255.255.250:3702).
func (s *SimServer) ServeDiscovery(ctx context.Context, conn net.PacketConn, xaddr, uuid string) error {
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ws-discovery responder: %w", err)
		}
		id, ok := parseProbe(buf[:n])
		if !ok {
			continue
		}
		conn.WriteTo(s.probeMatches(id, xaddr, uuid), from)
	}
}

// parseProbe returns a Probe's message id.
func parseProbe(b []byte) (string, bool) {
	var env struct {
		Header struct {
			MessageID string `xml:"MessageID"`
		} `xml:"Header"`
		Body struct {
			Probe *struct{} `xml:"Probe"`
		} `xml:"Body"`
	}
	if len(b) > maxDatagram || xml.Unmarshal(b, &env) != nil || env.Body.Probe == nil {
		return "", false
	}
	return strings.TrimSpace(env.Header.MessageID), true
}

func (s *SimServer) probeMatches(relatesTo, xaddr, uuid string) []byte {
	scopes := "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/type/ptz onvif://www.onvif.org/Profile/Streaming " +
		"onvif://www.onvif.org/name/" + url.PathEscape(s.opts.Name) + " onvif://www.onvif.org/hardware/" + url.PathEscape(s.opts.Hardware) +
		" onvif://www.onvif.org/location/country/china"
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
		`xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:tds="` + nsDevice + `">` +
		`<SOAP-ENV:Header><wsa:MessageID>` + newMessageID() + `</wsa:MessageID><wsa:RelatesTo>` + esc(relatesTo) + `</wsa:RelatesTo>` +
		`<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
		`<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header>` +
		`<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:` + esc(uuid) + `</wsa:Address></wsa:EndpointReference>` +
		`<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types><d:Scopes>` + esc(scopes) + `</d:Scopes>` +
		`<d:XAddrs>` + esc(xaddr) + `</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
}
