package profile

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// MarshalYAML writes a cited value on one line: {value: 30, cite: ["000 §29"]}.
func (c Cited[T]) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := n.Encode(struct {
		Value T        `yaml:"value"`
		Cite  []string `yaml:"cite"`
	}{c.Value, c.Cite}); err != nil {
		return nil, err
	}
	n.Style = yaml.FlowStyle
	return &n, nil
}

// YAML returns p as a YAML profile that Parse accepts.
func (p *Profile) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("marshal profile %s: %w", p.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal profile %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// WriteText writes every value of p with its citation, one per line: what
// `vigil profile show NAME` prints. Values the seed is silent on are marked "*".
func (p *Profile) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "profile  %s", p.Name)
	if p.Seed != "" {
		fmt.Fprintf(&b, " (seed %s)", p.Seed)
	}
	if p.Name == defaultName {
		b.WriteString(" [default]")
	}
	fmt.Fprintf(&b, "\ntitle    %s\n         %s\n\n", p.Title, p.TitleEN)
	b.WriteString("* = the regulation is silent on this value; the citation says where the value comes from.\n\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, r := range p.rules() {
		mark := " "
		if isSilent(r.cite) {
			mark = "*"
		}
		// Only the path column is aligned: values and citations vary too much in width.
		fmt.Fprintf(tw, "%s\t%s %s   [%s]\n", r.path, mark, displayValue(r.path, r.value), strings.Join(r.cite, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\napproval codes, least strict first:\n")
	for _, a := range approvals {
		fmt.Fprintf(&b, "  %-20s %s / %s\n", a.Code, a.ZH, a.EN)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayValue adds the labels of a place type or site category to its path's value.
func displayValue(path, value string) string {
	for _, prefix := range []string{"privacy.prohibited_places.", "sites.mandated.", "retention.by_category."} {
		if code, ok := strings.CutPrefix(path, prefix); ok {
			if l, ok := LabelOf(code); ok {
				return fmt.Sprintf("%s (%s / %s)", value, l.ZH, l.EN)
			}
		}
	}
	return value
}

func isSilent(cite []string) bool {
	for _, c := range cite {
		if strings.HasPrefix(c, SilentPrefix) {
			return true
		}
	}
	return false
}
