package main

import "vigil/internal/sim"

// `vigil sim`: simulated RTSP cameras (issue 3), shipped in the binary.
func init() { extraCommands["sim"] = sim.Command }
