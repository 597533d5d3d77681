package profile

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// ruleNames are the readable names of the rules, for the docs table.
var ruleNames = map[string]string{
	"scope":                                   "Scope 适用范围",
	"retention.min_days":                      "Minimum retention, days 最短存储期（日）",
	"retention.anti_terror_min_days":          "Anti-terror key target retention, days 防范恐怖袭击重点目标（日）",
	"retention.security_key_unit_min_days":    "Security key unit retention, days 治安保卫重点单位（日）",
	"retention.important_hold_days":           "Important footage hold, days (2 years = 731) 重要信息资料有效存储期",
	"retention.original_quality":              "Stored at collected quality 存储质量与采集一致",
	"audit.log_retention_days":                "Audit log retention, days 日志存储时间（日）",
	"filing.required":                         "System filing with police 备案",
	"filing.deadline_days":                    "Filing deadline, days 备案期限（日）",
	"filing.trigger":                          "Filing deadline counts from 备案期限起算",
	"filing.removal_required":                 "Removal filed 拆除备案",
	"filing.removal_deadline_days":            "Removal filing window, days 拆除备案期限（日）",
	"filing.removal_timing":                   "Removal filed before / after 拆除前 / 后备案",
	"filing.move_required":                    "Move filed too 移动备案",
	"filing.non_mandated_only":                "Only outside mandated sites 仅限非第六条系统",
	"retrieval.two_person":                    "Two staff for retrieval 工作人员不少于两人",
	"emergency.allowed":                       "Emergency departments act at once 突发事件可直接调取",
	"emergency.review_after":                  "Break-glass reviewed afterwards 事后审查",
	"citizens.allowed":                        "Citizens may view related footage 自然人查阅",
	"citizens.relations":                      "Citizens: who may ask 查阅人",
	"citizens.managing_unit_consent":          "Citizens: managing unit consents 管理单位同意",
	"citizens.declaration":                    "Citizens: signed declaration 查阅声明书",
	"sharing.grant_max_days":                  "Sharing grant maximum, days 共享授权有效期（日）",
	"sharing.approver":                        "Sharing grant approved by 共享审核",
	"sharing.real_name_only":                  "Sharing to named staff only 实名制共享",
	"sharing.suspend_on_abnormal_use":         "Grant suspended on abnormal use 异常使用暂停授权",
	"privacy.signage":                         "Signage in public places 明显标识",
	"privacy.purpose_limitation":              "Purpose limitation 用途限制",
	"privacy.data_grading":                    "Data classified and graded 分类分级",
	"privacy.deidentify_for_publication":      "De-identify for publication 公共传播去标识",
	"privacy.sensitive_analytics_police_only": "Face/gait/trajectory analytics police only 敏感信息由公安建管",
	"sites.protected_zone":                    "Near military / classified units 军事禁区、涉密单位周边",
	"sites.overlap_refused":                   "Overlapping new points refused 可视范围重叠不予建设",
	"sites.removal_replacement_plan":          "Mandated camera removal needs replacement plan 复建或替代方案",
	"sites.temporary_move_consent":            "Temporary move needs managing unit consent 临时迁移须同意",
	"operations.clock_accuracy":               "Accurate device time 运行时间准确",
	"operations.suspicious_info_report":       "Report suspicious information 可疑信息报告",
	"operations.monitor_staff_filing":         "Monitoring staff filed with police 监看人员备案",
}

// docOrder is the profiles' column order in the docs: the default, then by seed.
var docOrder = []string{"national-baseline", "tianjin-2025", "municipal-2010", "guangdong", "shanghai-putuo-2024", "wuhan-2023"}

// WriteMarkdown writes docs/profiles.md: every embedded profile's values with
// their citations, side by side.
func WriteMarkdown(w io.Writer) error {
	var ps []*Profile
	for _, n := range docOrder {
		p, err := Load(n)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	var b strings.Builder
	b.WriteString(docIntro)
	b.WriteString("| profile | seed | regulation |\n|---|---|---|\n")
	for _, p := range ps {
		seed := p.Seed
		if seed == "" {
			seed = "all five"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s<br>%s |\n", p.Name, seed, p.Title, p.TitleEN)
	}

	header := func(first string) {
		b.WriteString("| " + first + " |")
		for _, p := range ps {
			b.WriteString(" `" + p.Name + "` |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(ps)) + "\n")
	}
	rows := func(match func(path string) bool, name func(path string) string) {
		byPath := make([]map[string]rule, len(ps))
		var paths []string
		for i, p := range ps {
			byPath[i] = map[string]rule{}
			for _, r := range p.rules() {
				if !match(r.path) {
					continue
				}
				if !slices.Contains(paths, r.path) {
					paths = append(paths, r.path)
				}
				byPath[i][r.path] = r
			}
		}
		for _, path := range paths {
			b.WriteString("| " + name(path) + " |")
			for i := range ps {
				r, ok := byPath[i][path]
				if !ok {
					b.WriteString(" — |")
					continue
				}
				b.WriteString(" " + cell(r) + " |")
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("\n## Numbers and rules\n\n")
	header("rule")
	rows(func(p string) bool {
		return !strings.HasPrefix(p, "retrieval.approval.") && !strings.HasPrefix(p, "privacy.prohibited_places.") &&
			!strings.HasPrefix(p, "sites.mandated.") && !strings.HasPrefix(p, "retention.by_category.")
	}, func(p string) string {
		if n, ok := ruleNames[p]; ok {
			return n + "<br>`" + p + "`"
		}
		return "`" + p + "`"
	})

	b.WriteString("\n## Who approves viewing (查阅) and copying / retrieval (复制、调取)\n\n")
	b.WriteString("Approval codes, least strict first: ")
	for i, a := range approvals {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "`%s` %s (%s)", a.Code, a.EN, a.ZH)
	}
	b.WriteString(".\n\n")
	header("requester · action")
	rows(func(p string) bool { return strings.HasPrefix(p, "retrieval.approval.") }, func(p string) string {
		rest := strings.TrimPrefix(p, "retrieval.approval.")
		kind, action, _ := strings.Cut(rest, ".")
		l, _ := LabelOf(kind)
		return fmt.Sprintf("%s %s · %s<br>`%s`", l.EN, l.ZH, action, kind)
	})

	b.WriteString("\n## Prohibited places (REG-6)\n\n")
	header("place type")
	rows(func(p string) bool { return strings.HasPrefix(p, "privacy.prohibited_places.") }, labelName("privacy.prohibited_places."))

	b.WriteString("\n## Mandated site categories (REG-5)\n\n")
	b.WriteString("A category a profile does not list is not mandated by that regulation (\"—\").\n\n")
	header("site category")
	rows(func(p string) bool { return strings.HasPrefix(p, "sites.mandated.") }, labelName("sites.mandated."))

	b.WriteString("\n## Where silent values come from\n\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "<details><summary><code>%s</code></summary>\n\n", p.Name)
		for _, r := range p.rules() {
			if isSilent(r.cite) {
				fmt.Fprintf(&b, "- `%s` = %s — %s\n", r.path, r.value, strings.Join(r.cite, "; "))
			}
		}
		b.WriteString("\n</details>\n\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func labelName(prefix string) func(string) string {
	return func(p string) string {
		code := strings.TrimPrefix(p, prefix)
		l, _ := LabelOf(code)
		return fmt.Sprintf("%s %s<br>`%s`", l.EN, l.ZH, code)
	}
}

// cell renders one value for the docs table: explicit values with their
// articles, silent ones marked.
func cell(r rule) string {
	v := strings.ReplaceAll(r.value, "|", "\\|")
	if isSilent(r.cite) {
		var arts []string
		for _, c := range r.cite {
			if !strings.HasPrefix(c, SilentPrefix) {
				arts = append(arts, c)
			}
		}
		if len(arts) > 0 {
			return fmt.Sprintf("%s <sub>*silent* (cf. %s)</sub>", v, strings.Join(arts, ", "))
		}
		return v + " <sub>*silent*</sub>"
	}
	return fmt.Sprintf("**%s**<br><sub>%s</sub>", v, strings.Join(r.cite, ", "))
}

const docIntro = `# Jurisdiction profiles

<!-- Generated by internal/profile (WriteMarkdown); do not edit by hand.
     Regenerate: go test ./internal/profile -run TestDocsUpToDate -update -->

Vigil reads every number and rule that differs between the regulations from a
**jurisdiction profile** (` + "`internal/profile/profiles/*.yaml`" + `). Each value carries
the article(s) it comes from. ` + "`vigil profile show NAME`" + ` prints one profile in full;
` + "`vigil profile list`" + ` lists them.

How to read the citations:

- **000, 003, 004**: ` + "`§N(k)`" + ` is article N, item k; ` + "`¶2`" + ` its second paragraph.
- **001**: the copy has no article numbers. ` + "`001 ch.N ¶M(k)`" + ` is chapter N, its M-th
  paragraph (list items not counted), item k.
- **002** is an amendment draft (bold = added, italic = deleted; the formatting is lost in
  the plain text, the draft's 【说明】 notes say what changed). Its cites use the **amended**
  numbering: old §15 (removal filing) is deleted, so old §16–§31 become §15–§30; "(old §M)"
  gives the number printed first in the draft.
- **silent** means the regulation says nothing on this value: the value is taken from the
  national baseline (or, where no seed sets it, kept as shared by all), and the reason is
  listed at the end of this page. Silent values never make the baseline stricter.
- **national-baseline** (the default) takes the strictest value each seed states: the longest
  retention, hold and log minimums; the shortest filing deadlines and sharing-grant maximum;
  every duty any seed imposes; the union of prohibited places and mandated sites; the
  strictest approval per requester; the fewest citizens' rights.
- "2 years" is stored as 731 days so that any two calendar years, leap day included, are covered.

`
