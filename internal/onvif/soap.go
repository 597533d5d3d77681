// Package onvif is a small ONVIF client of Vigil's own (no ONVIF module is
// served to this project): WS-Discovery probes on the local segment, the
// Device service (GetCapabilities, GetServices, GetSystemDateAndTime), the
// Media service (GetProfiles, GetStreamUri) to find a camera's RTSP URL,
// and the PTZ service (ContinuousMove, Stop, GotoPreset, SetPreset,
// GetPresets, GetStatus) for MED-3. It also holds a simulated device
// (NewSimServer) that the simulator mounts so the client is exercised end
// to end.
//
// Invariants:
//   - Requests are SOAP 1.2 with a WS-Security UsernameToken whose password
//     is a digest, Base64(SHA-1(nonce + created + password)), never the
//     password itself; the created time follows the device's clock when
//     SyncClock has measured the offset.
//   - Responses are parsed by local element names, whatever prefixes the
//     firmware chose; a SOAP fault (1.2 or 1.1) becomes a *Fault error, and
//     a device that rejects the credentials matches ErrNotAuthorized.
//   - Every response body is size-limited before parsing; malformed XML is
//     an error, never a panic.
package onvif

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Namespaces of the services and of WS-Security.
const (
	nsSOAP   = "http://www.w3.org/2003/05/soap-envelope"
	nsDevice = "http://www.onvif.org/ver10/device/wsdl"
	nsMedia  = "http://www.onvif.org/ver10/media/wsdl"
	nsPTZ    = "http://www.onvif.org/ver20/ptz/wsdl"
	nsSchema = "http://www.onvif.org/ver10/schema"
	nsWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWSU    = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	typeDig  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	typeB64  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// maxResponse bounds a SOAP response body.
const maxResponse = 4 << 20

// ErrNotAuthorized is matched (errors.Is) by a fault or HTTP answer that
// rejects the credentials.
var ErrNotAuthorized = errors.New("onvif: not authorized")

// Fault is a SOAP fault returned by a device.
type Fault struct {
	Code    string // e.g. "Sender" (the local part of the code value)
	Subcode string // the innermost subcode's local part, e.g. "NotAuthorized", "NoProfile"
	Reason  string
	Status  int // HTTP status of the answer
}

func (f *Fault) Error() string {
	s := "onvif: SOAP fault " + f.Code
	if f.Subcode != "" {
		s += "/" + f.Subcode
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// Is makes a credentials fault match ErrNotAuthorized.
func (f *Fault) Is(target error) bool {
	return target == ErrNotAuthorized && (f.Subcode == "NotAuthorized" || f.Subcode == "FailedAuthentication" || f.Status == http.StatusUnauthorized)
}

// Client talks to one device.
type Client struct {
	// DeviceURL is the device service address, e.g.
	// http://192.168.1.64/onvif/device_service.
	DeviceURL string
	Username  string
	Password  string
	HTTP      *http.Client // default: 10 s timeout
	// ClockOffset is added to the local time for the token's Created
	// (device time − local time; see SyncClock).
	ClockOffset time.Duration

	// Service addresses, filled by GetCapabilities (or set by hand).
	MediaURL, PTZURL string
}

// NewClient returns a client of the device service at deviceURL.
func NewClient(deviceURL, username, password string) *Client {
	return &Client{DeviceURL: deviceURL, Username: username, Password: password, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// PasswordDigest returns the WS-Security UsernameToken digest:
// Base64(SHA-1(nonce + created + password)).
func PasswordDigest(nonce []byte, created, password string) string {
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// securityHeader returns the wsse:Security header, or "" without a user.
func (c *Client) securityHeader() string {
	if c.Username == "" {
		return ""
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	created := time.Now().Add(c.ClockOffset).UTC().Format("2006-01-02T15:04:05.000Z")
	var b strings.Builder
	b.WriteString(`<wsse:Security s:mustUnderstand="1" xmlns:wsse="` + nsWSSE + `" xmlns:wsu="` + nsWSU + `"><wsse:UsernameToken><wsse:Username>`)
	xml.EscapeText(&b, []byte(c.Username))
	b.WriteString(`</wsse:Username><wsse:Password Type="` + typeDig + `">` + PasswordDigest(nonce, created, c.Password) +
		`</wsse:Password><wsse:Nonce EncodingType="` + typeB64 + `">` + base64.StdEncoding.EncodeToString(nonce) +
		`</wsse:Nonce><wsu:Created>` + created + `</wsu:Created></wsse:UsernameToken></wsse:Security>`)
	return b.String()
}

// envelope wraps body (an element with its namespace declared) in a SOAP
// 1.2 envelope.
func envelope(header, body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<s:Envelope xmlns:s="` + nsSOAP + `" xmlns:tt="` + nsSchema + `"><s:Header>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
}

// call posts body to url with the given SOAP action and decodes the
// response's Body into out (a struct whose fields name the response
// element by local name).
func (c *Client) call(ctx context.Context, url, action, body string, auth bool, out any) error {
	if url == "" {
		return fmt.Errorf("onvif %s: no service address (call GetCapabilities first)", shortAction(action))
	}
	hdr := ""
	if auth {
		hdr = c.securityHeader()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(envelope(hdr, body)))
	if err != nil {
		return fmt.Errorf("onvif %s: %w", shortAction(action), err)
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+action+`"`)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("onvif %s: %w", shortAction(action), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("onvif %s: read response: %w", shortAction(action), err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("onvif %s: response larger than %d bytes", shortAction(action), maxResponse)
	}
	if err := ParseResponse(data, resp.StatusCode, out); err != nil {
		return fmt.Errorf("onvif %s: %w", shortAction(action), err)
	}
	return nil
}

func shortAction(a string) string { return a[strings.LastIndex(a, "/")+1:] }

// faultXML is a SOAP 1.2 or 1.1 fault, by local names.
type faultXML struct {
	Code struct {
		Value   string     `xml:"Value"`
		Subcode *subcodeEl `xml:"Subcode"`
	} `xml:"Code"`
	Reason struct {
		Text []string `xml:"Text"`
	} `xml:"Reason"`
	FaultCode   string `xml:"faultcode"`   // SOAP 1.1
	FaultString string `xml:"faultstring"` // SOAP 1.1
}

type subcodeEl struct {
	Value   string     `xml:"Value"`
	Subcode *subcodeEl `xml:"Subcode"`
}

// ParseResponse decodes a SOAP response with HTTP status: the first child
// of its Body into out, or a *Fault. out may be nil for empty responses.
func ParseResponse(data []byte, status int, out any) error {
	var env struct {
		Body struct {
			Fault *faultXML `xml:"Fault"`
			Inner []byte    `xml:",innerxml"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(data, &env); err != nil {
		if status == http.StatusUnauthorized {
			return &Fault{Code: "HTTP", Subcode: "NotAuthorized", Reason: "HTTP 401", Status: status}
		}
		return fmt.Errorf("not a SOAP envelope (HTTP %d): %w", status, err)
	}
	if f := env.Body.Fault; f != nil {
		return f.toFault(status)
	}
	if status/100 != 2 {
		return &Fault{Code: "HTTP", Subcode: http.StatusText(status), Reason: fmt.Sprintf("HTTP %d without a SOAP fault", status), Status: status}
	}
	if out == nil {
		return nil
	}
	if err := xml.Unmarshal(wrapInner(env.Body.Inner), out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// wrapInner gives the Body's children a root element so they decode as a
// struct whose fields name them.
func wrapInner(inner []byte) []byte {
	return append(append([]byte("<Body>"), inner...), []byte("</Body>")...)
}

func (f *faultXML) toFault(status int) *Fault {
	out := &Fault{Code: localName(f.Code.Value), Status: status}
	for s := f.Code.Subcode; s != nil; s = s.Subcode {
		out.Subcode = localName(s.Value)
	}
	if len(f.Reason.Text) > 0 {
		out.Reason = strings.TrimSpace(f.Reason.Text[0])
	}
	if out.Code == "" && f.FaultCode != "" { // SOAP 1.1
		out.Code, out.Reason = localName(f.FaultCode), strings.TrimSpace(f.FaultString)
		if strings.Contains(f.FaultCode, "NotAuthorized") || strings.Contains(f.FaultCode, "FailedAuthentication") {
			out.Subcode = localName(f.FaultCode)
		}
	}
	return out
}

// localName strips a QName's prefix: "ter:NotAuthorized" → "NotAuthorized".
func localName(q string) string {
	q = strings.TrimSpace(q)
	return q[strings.LastIndex(q, ":")+1:]
}
