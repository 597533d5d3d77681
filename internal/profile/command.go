package profile

import (
	"fmt"
	"io"
	"strings"
)

const usage = `usage:
  vigil profile list                 the embedded profiles (the default is marked)
  vigil profile show NAME            every value of an embedded profile with its citation
  vigil profile show --file PATH     validate a deployment's own profile and show it
  vigil profile show --yaml NAME     the profile as YAML (a starting point for a deployment's own)
`

// Command runs `vigil profile ARGS…` and returns the exit code: 0 on success,
// 1 when a profile fails to load, 2 on bad usage (the message names the problem).
func Command(args []string, stdout, stderr io.Writer) int {
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "vigil profile: "+format+"\n%s", append(a, usage)...)
		return 2
	}
	if len(args) == 0 {
		return bad("missing subcommand (list or show)")
	}
	switch args[0] {
	case "list":
		if len(args) > 1 {
			return bad("list takes no arguments (got %q)", strings.Join(args[1:], " "))
		}
		for _, n := range Names() {
			p, err := Load(n)
			if err != nil {
				fmt.Fprintf(stderr, "vigil profile: %v\n", err)
				return 1
			}
			mark := ""
			if n == Default() {
				mark = " (default)"
			}
			fmt.Fprintf(stdout, "%-22s %s%s\n", n, p.TitleEN, mark)
		}
		return 0
	case "show":
		return show(args[1:], stdout, stderr, bad)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		return bad("unknown subcommand %q", args[0])
	}
}

func show(args []string, stdout, stderr io.Writer, bad func(string, ...any) int) int {
	var file, name string
	asYAML := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--yaml":
			asYAML = true
		case a == "--file":
			if i+1 >= len(args) {
				return bad("--file needs a path")
			}
			i++
			file = args[i]
		case strings.HasPrefix(a, "--file="):
			file = strings.TrimPrefix(a, "--file=")
		case strings.HasPrefix(a, "-"):
			return bad("unknown flag %q", a)
		case name != "":
			return bad("show takes one profile name (got %q and %q)", name, a)
		default:
			name = a
		}
	}
	if file != "" && name != "" {
		return bad("give a NAME or --file PATH, not both")
	}
	if file == "" && name == "" {
		return bad("show needs a profile NAME (one of %s) or --file PATH", strings.Join(Names(), ", "))
	}
	var p *Profile
	var err error
	if file != "" {
		p, err = LoadFile(file)
	} else {
		p, err = Load(name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vigil profile: %v\n", err)
		return 1
	}
	if asYAML {
		data, err := p.YAML()
		if err != nil {
			fmt.Fprintf(stderr, "vigil profile: %v\n", err)
			return 1
		}
		_, err = stdout.Write(data)
		if err != nil {
			return 1
		}
		return 0
	}
	if err := p.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "vigil profile: %v\n", err)
		return 1
	}
	return 0
}
