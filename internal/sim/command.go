package sim

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vigil/internal/media"
	"vigil/internal/media/rtsp"
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
	fs.Func("fault", "misbehave like a field camera (repeatable): "+FaultUsage, func(v string) error { return ParseFault(m, v) })
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

// FaultUsage lists the --fault modes.
const FaultUsage = "loss=PCT (UDP loss, 1 % of packets reordered too), reorder=PCT, ts-jump=AFTER (RTP time +1 h after AFTER, −5 s after twice AFTER), " +
	"clock-rate=HZ (SDP announces H.264 at HZ, stamped at 90 kHz), ssrc-every=INTERVAL, bad-header (a header line without a colon in every answer), " +
	"stale-nonce=AGE (keep-alives with an older Digest nonce get 401 stale=true; needs --user), burst=HOLD[/EVERY] (hold units for HOLD every EVERY, default 10s, then send them at once)"

// ParseFault applies one --fault NAME[=VALUE] to f.
func ParseFault(f *rtsp.Faults, v string) error {
	name, val, _ := strings.Cut(v, "=")
	dur := func(def time.Duration) (time.Duration, error) {
		if val == "" {
			return def, nil
		}
		return time.ParseDuration(val)
	}
	num := func(def float64) (float64, error) {
		if val == "" {
			return def, nil
		}
		return strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
	}
	var err error
	switch name {
	case "loss":
		if f.DropPercent, err = num(1); err == nil && f.ReorderPercent == 0 {
			f.ReorderPercent = 1
		}
	case "reorder":
		f.ReorderPercent, err = num(1)
	case "ts-jump":
		f.TimestampJump, err = dur(10 * time.Second)
	case "clock-rate":
		var hz float64
		hz, err = num(1000)
		f.ClockRate = int(hz)
	case "ssrc-every":
		f.SSRCEvery, err = dur(10 * time.Second)
	case "bad-header":
		f.BadHeader = true
	case "stale-nonce":
		f.StaleNonce, err = dur(20 * time.Second)
	case "burst":
		hold, every, _ := strings.Cut(val, "/")
		val = hold
		if f.Burst, err = dur(2500 * time.Millisecond); err == nil {
			f.BurstEvery = 10 * time.Second
			if every != "" {
				f.BurstEvery, err = time.ParseDuration(every)
			}
		}
	default:
		return fmt.Errorf("unknown fault %q (want %s)", name, FaultUsage)
	}
	if err != nil {
		return fmt.Errorf("fault %s: %w", name, err)
	}
	return nil
}
