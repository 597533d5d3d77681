// Command vigil is the whole of Vigil in one binary: the server, its
// maintenance commands and the camera simulator. `vigil help` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"vigil/internal/app"
	"vigil/internal/config"
	"vigil/internal/i18n"
	"vigil/internal/problem"
	"vigil/internal/profile"
)

const usage = `Vigil — public-security video image information system (公共安全视频图像信息系统)

Usage: vigil <command> [flags]

Commands:
  serve                      run the server (default ./data, 127.0.0.1:8080)
  migrate                    apply database migrations and exit
  user create|reset-password|disable
                             manage accounts from the command line
  audit verify               recompute the audit chain; exit 1 naming the first bad entry
  recordings verify          re-hash kept segments, check their chain, anchors and that every
                             deletion is proven by a retention audit entry; exit 1 naming the first bad one
  profile list|show NAME     the jurisdiction profiles and their cited values
  sim                        simulated RTSP cameras: rtsp://127.0.0.1:8554/cam1…camN
  version                    print the version
  help                       this text

Every flag is also an environment variable: --data is VIGIL_DATA, --listen is
VIGIL_LISTEN, --tls-self-signed is VIGIL_TLS_SELF_SIGNED, and so on.
Run "vigil <command> --help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "user":
		return user(ctx, rest, stdout, stderr)
	case "audit":
		return auditCmd(ctx, rest, stdout, stderr)
	case "profile":
		return profile.Command(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "vigil %s\n", app.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if c, ok := extraCommands[cmd]; ok {
		return c(ctx, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "vigil: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// extraCommands are registered by the files of other subsystems (sim, …).
var extraCommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{}

// fail prints err and returns the exit code: 2 for configuration errors,
// 1 for everything else.
func fail(stderr io.Writer, err error) int {
	if pe, ok := problem.As(err); ok {
		fmt.Fprintf(stderr, "vigil: %s\n", i18n.T(cliLanguage(), pe.Code, pe.Params))
		if pe.Status >= 400 && pe.Status < 500 {
			return 1
		}
	} else {
		fmt.Fprintf(stderr, "vigil: %v\n", err)
	}
	if _, ok := config.AsError(err); ok {
		return 2
	}
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// cliLanguage picks the language of messages from the locale environment:
// Chinese locales get zh-CN, everything else English.
func cliLanguage() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if strings.HasPrefix(strings.ToLower(l), "zh") {
				return "zh-CN"
			}
			return "en"
		}
	}
	return "en"
}

type usageError string

func (e usageError) Error() string { return string(e) }
