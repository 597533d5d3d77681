package sim

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strings"
	"syscall"

	"vigil/internal/media"
	"vigil/internal/onvif"
)

// Command runs `vigil sim` with args (without the subcommand name) and
// returns the process exit code. It serves until ctx ends or the process
// gets SIGINT or SIGTERM.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts Options
	var vcodec, audio string
	fs.StringVar(&opts.Listen, "rtsp", "127.0.0.1:8554", "RTSP listen `address`")
	fs.IntVar(&opts.Count, "count", 1, "number of cameras (cam1…camN)")
	fs.StringVar(&vcodec, "codec", "h264", "video codec: h264 or h265")
	fs.StringVar(&audio, "audio", "aac", "audio codec: aac, pcma, pcmu or none")
	fs.StringVar(&opts.Username, "user", "", "require this user name (Digest or Basic auth)")
	fs.StringVar(&opts.Password, "pass", "", "password for --user")
	fs.StringVar(&opts.ONVIF, "onvif", "", "also serve each camera's simulated ONVIF device (PTZ) on this HTTP `address`, e.g. 127.0.0.1:8000")
	discovery := fs.Bool("onvif-discovery", false, "with --onvif, answer WS-Discovery probes on the multicast group "+onvif.DiscoveryAddr)
	m := &opts.Misbehave
	fs.Float64Var(&m.DropPercent, "drop", 0, "drop this `percent` of RTP packets")
	fs.Float64Var(&m.GarbagePercent, "garbage", 0, "send this `percent` of extra garbage packets")
	fs.DurationVar(&m.StallEvery, "stall-every", 0, "stall sending every `interval` (with --stall)")
	fs.DurationVar(&m.Stall, "stall", 0, "stall sending for this `duration`")
	fs.DurationVar(&m.DisconnectEvery, "disconnect-every", 0, "drop each client after this `duration`")
	fs.BoolVar(&m.OmitSprop, "no-sprop", false, "omit sprop-parameter-sets from the SDP")
	fs.BoolVar(&m.EarlyRTP, "early-rtp", false, "send RTP before the PLAY answer")
	fs.BoolVar(&m.RefuseUDP, "refuse-udp", false, "answer UDP SETUPs with 461 (TCP only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch strings.ToLower(vcodec) {
	case "h264":
		opts.Codec = media.H264
	case "h265", "hevc":
		opts.Codec = media.H265
	default:
		fmt.Fprintf(stderr, "vigil sim: --codec %q: want h264 or h265\n", vcodec)
		return 2
	}
	switch strings.ToLower(audio) {
	case "aac":
		opts.Audio = media.AAC
	case "pcma":
		opts.Audio = media.PCMA
	case "pcmu":
		opts.Audio = media.PCMU
	case "none", "":
		opts.Audio = ""
	default:
		fmt.Fprintf(stderr, "vigil sim: --audio %q: want aac, pcma, pcmu or none\n", audio)
		return 2
	}
	if opts.Count < 1 {
		fmt.Fprintf(stderr, "vigil sim: --count must be at least 1\n")
		return 2
	}
	if *discovery {
		if opts.ONVIF == "" {
			fmt.Fprintf(stderr, "vigil sim: --onvif-discovery needs --onvif\n")
			return 2
		}
		opts.ONVIFDiscovery = onvif.DiscoveryAddr
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts.OnListen = func(addr string) {
		fmt.Fprintf(stdout, "vigil sim: serving %d camera(s): rtsp://%s/cam1 … rtsp://%s/cam%d\n", opts.Count, addr, addr, opts.Count)
	}
	opts.OnONVIF = func(addr string) {
		if h, p, err := net.SplitHostPort(addr); err == nil {
			addr = net.JoinHostPort(announceHost(h), p)
		}
		fmt.Fprintf(stdout, "vigil sim: ONVIF devices: http://%s%s … http://%s%s\n", addr, ONVIFPath(1), addr, ONVIFPath(opts.Count))
	}
	if err := Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "vigil sim: %v\n", err)
		return 1
	}
	return 0
}
