package sim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"vigil/internal/onvif"
)

// ONVIFPath is the device service path of simulated camera n on the
// ONVIF address (Options.ONVIF): /onvif/camN/device_service.
func ONVIFPath(n int) string { return fmt.Sprintf("/onvif/cam%d/device_service", n) }

// serveONVIF starts one simulated ONVIF device (Device, Media and PTZ
// services, onvif.SimServer) per camera on opts.ONVIF, camera N under
// /onvif/camN/, requiring the RTSP credentials (WS-Security digest), and
// with opts.ONVIFDiscovery a WS-Discovery responder announcing them. The
// stream URI each device answers is its camera's RTSP URL on rtspAddr. It
// returns the address served and a function that stops serving.
func serveONVIF(opts Options, rtspAddr string) (string, func(), error) {
	rtspHost, rtspPort, err := net.SplitHostPort(rtspAddr)
	if err != nil {
		return "", nil, fmt.Errorf("sim onvif: rtsp address %q: %w", rtspAddr, err)
	}
	ln, err := net.Listen("tcp", opts.ONVIF)
	if err != nil {
		return "", nil, fmt.Errorf("sim onvif: %w", err)
	}
	addr := ln.Addr().String()
	onvifHost, onvifPort, _ := net.SplitHostPort(addr)
	onvifHost = announceHost(onvifHost)
	var devs []discoveryDevice
	mux := http.NewServeMux()
	for n := 1; n <= opts.Count; n++ {
		path := fmt.Sprintf("/onvif/cam%d", n)
		dev := onvif.NewSimServer(onvif.SimOptions{
			Username: opts.Username, Password: opts.Password, Prefix: path,
			Name: fmt.Sprintf("Vigil Sim cam%d", n), Hardware: "VIGIL-SIM-PTZ",
			StreamURI: func(host, _ string) string {
				return fmt.Sprintf("rtsp://%s/cam%d", net.JoinHostPort(streamHost(rtspHost, host), rtspPort), n)
			},
		})
		mux.Handle(path+"/", dev)
		devs = append(devs, discoveryDevice{dev: dev, uuid: discoveryUUID(addr, n),
			xaddr: "http://" + net.JoinHostPort(onvifHost, onvifPort) + ONVIFPath(n)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	if opts.ONVIFDiscovery != "" {
		if _, err := serveDiscovery(ctx, opts.ONVIFDiscovery, devs); err != nil {
			cancel()
			ln.Close()
			return "", nil, err
		}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) // returns http.ErrServerClosed on stop
	}()
	stop := func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-done
	}
	return addr, stop, nil
}

// streamHost is the host of the RTSP URL a device announces: the RTSP
// listen host, or, when that is a wildcard, the host the ONVIF request
// reached (a client that reached one can reach the other).
func streamHost(rtspHost, requestHost string) string {
	if ip := net.ParseIP(rtspHost); rtspHost != "" && (ip == nil || !ip.IsUnspecified()) {
		return rtspHost
	}
	if h, _, err := net.SplitHostPort(requestHost); err == nil {
		return h
	}
	if requestHost != "" {
		return requestHost
	}
	return "127.0.0.1"
}
