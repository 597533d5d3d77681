package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// startPprof serves net/http/pprof on VIGIL_PPROF (e.g. 127.0.0.1:6060)
// when that variable is set: a hidden switch for profiling the server under
// load (bench/ingest --product --pprof). Only loopback addresses are
// accepted, since profiles expose the process's memory. It returns a stop
// function.
func startPprof(stderr io.Writer) (func(), error) {
	addr := os.Getenv("VIGIL_PPROF")
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("VIGIL_PPROF=%q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("VIGIL_PPROF=%q: only a loopback address is allowed", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("VIGIL_PPROF: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Fprintf(stderr, "pprof at http://%s/debug/pprof/ (VIGIL_PPROF)\n", l.Addr())
	return func() { srv.Close() }, nil
}
