package profile

import (
	"slices"
)

// noSeed is the cite of a baseline value that none of the profiles sets.
const noSeed = SilentPrefix + " no seed regulation sets this; the value shared by all profiles is kept"

// Strictest returns the profile that takes, for each rule, the strictest value
// that the given profiles state explicitly (values marked "silent:" are
// ignored): the longest retention, hold and audit-log minimums, the shortest
// filing deadlines and sharing-grant maximum, every duty any of them imposes,
// the union of prohibited places and mandated sites, the strictest approval per
// requester kind, and the fewest citizens' rights. Each value cites the
// articles of every profile that states it. A rule none of them states keeps
// the first profile's value and says so. This is how national-baseline is made.
func Strictest(ps ...*Profile) *Profile {
	out := &Profile{
		Name:    defaultName,
		Title:   "全国基线：五部规章中每一项最严格的规定",
		TitleEN: "National baseline: the strictest rule of each kind across the five seed regulations",
		Scope: Cited[string]{
			Value: "any public-security video image information system; each value is the strictest stated by the seed regulations",
			Cite:  []string{SilentPrefix + " derived by profile.Strictest from the five seed profiles"},
		},
	}
	if len(ps) == 0 {
		return out
	}
	more := func(a, b int) bool { return a > b }
	less := func(a, b int) bool { return a < b }

	r := &out.Retention
	r.MinDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Retention.MinDays }, more)
	r.AntiTerrorMinDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Retention.AntiTerrorMinDays }, more)
	r.SecurityKeyUnitMinDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Retention.SecurityKeyUnitMinDays }, more)
	r.ImportantHoldDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Retention.ImportantHoldDays }, more)
	r.OriginalQuality = pickBool(ps, func(p *Profile) Cited[bool] { return p.Retention.OriginalQuality }, true)
	r.ByCategory = map[string]Cited[int]{}
	for _, p := range ps {
		for k, c := range p.Retention.ByCategory {
			if c.Inherited() {
				continue
			}
			if cur, ok := r.ByCategory[k]; !ok || c.Value > cur.Value {
				r.ByCategory[k] = Cited[int]{c.Value, clone(c.Cite)}
			} else if c.Value == cur.Value {
				r.ByCategory[k] = Cited[int]{c.Value, union(cur.Cite, c.Cite)}
			}
		}
	}
	out.Audit.LogRetentionDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Audit.LogRetentionDays }, more)

	f := &out.Filing
	f.Required = pickBool(ps, func(p *Profile) Cited[bool] { return p.Filing.Required }, true)
	f.DeadlineDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Filing.DeadlineDays }, less)
	f.Trigger = pickEnum(ps, func(p *Profile) Cited[string] { return p.Filing.Trigger }, []string{"in_use", "acceptance"})
	f.RemovalRequired = pickBool(ps, func(p *Profile) Cited[bool] { return p.Filing.RemovalRequired }, true)
	f.RemovalDeadlineDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Filing.RemovalDeadlineDays }, less)
	f.MoveRequired = pickBool(ps, func(p *Profile) Cited[bool] { return p.Filing.MoveRequired }, true)
	f.NonMandatedOnly = pickBool(ps, func(p *Profile) Cited[bool] { return p.Filing.NonMandatedOnly }, false)
	f.RemovalTiming = pickEnum(ps, func(p *Profile) Cited[string] { return p.Filing.RemovalTiming }, []string{"after", "before"})

	ranked := make([]string, 0, len(approvals))
	for _, a := range approvals {
		ranked = append(ranked, a.Code)
	}
	slices.SortStableFunc(ranked, func(a, b string) int { return approvalRank[a] - approvalRank[b] })
	out.Retrieval.Approval = map[string]Approval{}
	for _, k := range codes(requesterKinds) {
		out.Retrieval.Approval[k] = Approval{
			View: pickEnum(ps, func(p *Profile) Cited[string] { return p.Retrieval.Approval[k].View }, ranked),
			Copy: pickEnum(ps, func(p *Profile) Cited[string] { return p.Retrieval.Approval[k].Copy }, ranked),
		}
	}
	out.Retrieval.TwoPerson = pickBool(ps, func(p *Profile) Cited[bool] { return p.Retrieval.TwoPerson }, true)

	out.Emergency.Allowed = pickBool(ps, func(p *Profile) Cited[bool] { return p.Emergency.Allowed }, false)
	out.Emergency.ReviewAfter = pickBool(ps, func(p *Profile) Cited[bool] { return p.Emergency.ReviewAfter }, true)

	c := &out.Citizens
	c.Allowed = pickBool(ps, func(p *Profile) Cited[bool] { return p.Citizens.Allowed }, false)
	c.Relations = pickRelations(ps)
	c.ManagingUnitConsent = pickBool(ps, func(p *Profile) Cited[bool] { return p.Citizens.ManagingUnitConsent }, true)
	c.Declaration = pickBool(ps, func(p *Profile) Cited[bool] { return p.Citizens.Declaration }, true)

	s := &out.Sharing
	s.GrantMaxDays = pickInt(ps, func(p *Profile) Cited[int] { return p.Sharing.GrantMaxDays }, less)
	s.Approver = pickEnum(ps, func(p *Profile) Cited[string] { return p.Sharing.Approver }, ranked)
	s.RealNameOnly = pickBool(ps, func(p *Profile) Cited[bool] { return p.Sharing.RealNameOnly }, true)
	s.SuspendOnAbnormalUse = pickBool(ps, func(p *Profile) Cited[bool] { return p.Sharing.SuspendOnAbnormalUse }, true)

	pv := &out.Privacy
	pv.ProhibitedPlaces = unionSet(ps, func(p *Profile) map[string]Cited[bool] { return p.Privacy.ProhibitedPlaces })
	pv.Signage = pickBool(ps, func(p *Profile) Cited[bool] { return p.Privacy.Signage }, true)
	pv.PurposeLimitation = pickBool(ps, func(p *Profile) Cited[bool] { return p.Privacy.PurposeLimitation }, true)
	pv.DataGrading = pickBool(ps, func(p *Profile) Cited[bool] { return p.Privacy.DataGrading }, true)
	pv.DeidentifyForPublication = pickBool(ps, func(p *Profile) Cited[bool] { return p.Privacy.DeidentifyForPublication }, true)
	pv.SensitiveAnalyticsPoliceOnly = pickBool(ps, func(p *Profile) Cited[bool] { return p.Privacy.SensitiveAnalyticsPoliceOnly }, true)

	st := &out.Sites
	st.Mandated = unionSet(ps, func(p *Profile) map[string]Cited[bool] { return p.Sites.Mandated })
	st.ProtectedZone = pickEnum(ps, func(p *Profile) Cited[string] { return p.Sites.ProtectedZone }, []string{"consult", "consent"})
	st.OverlapRefused = pickBool(ps, func(p *Profile) Cited[bool] { return p.Sites.OverlapRefused }, true)
	st.RemovalReplacementPlan = pickBool(ps, func(p *Profile) Cited[bool] { return p.Sites.RemovalReplacementPlan }, true)
	st.TemporaryMoveConsent = pickBool(ps, func(p *Profile) Cited[bool] { return p.Sites.TemporaryMoveConsent }, true)

	o := &out.Operations
	o.ClockAccuracy = pickBool(ps, func(p *Profile) Cited[bool] { return p.Operations.ClockAccuracy }, true)
	o.SuspiciousInfoReport = pickBool(ps, func(p *Profile) Cited[bool] { return p.Operations.SuspiciousInfoReport }, true)
	o.MonitorStaffFiling = pickBool(ps, func(p *Profile) Cited[bool] { return p.Operations.MonitorStaffFiling }, true)
	return out
}

// pick returns the strictest explicit value (stricter(a, b) reports a is
// stricter than b), citing every profile that states it. With no explicit
// value it keeps the first profile's value, cited noSeed.
func pick[T comparable](ps []*Profile, get func(*Profile) Cited[T], stricter func(a, b T) bool) Cited[T] {
	var best Cited[T]
	found := false
	for _, p := range ps {
		c := get(p)
		if c.Inherited() || len(c.Cite) == 0 {
			continue
		}
		switch {
		case !found || stricter(c.Value, best.Value):
			best, found = Cited[T]{c.Value, clone(c.Cite)}, true
		case c.Value == best.Value:
			best.Cite = union(best.Cite, c.Cite)
		}
	}
	if !found {
		return Cited[T]{get(ps[0]).Value, []string{noSeed}}
	}
	return best
}

func pickInt(ps []*Profile, get func(*Profile) Cited[int], stricter func(a, b int) bool) Cited[int] {
	return pick(ps, get, stricter)
}

// pickBool takes strict as the stricter value of the flag.
func pickBool(ps []*Profile, get func(*Profile) Cited[bool], strict bool) Cited[bool] {
	return pick(ps, get, func(a, b bool) bool { return a == strict && b != strict })
}

// pickEnum takes the value latest in order (least strict first).
func pickEnum(ps []*Profile, get func(*Profile) Cited[string], order []string) Cited[string] {
	return pick(ps, get, func(a, b string) bool { return slices.Index(order, a) > slices.Index(order, b) })
}

// pickRelations takes the intersection of the explicit lists: fewer people may ask.
func pickRelations(ps []*Profile) Cited[[]string] {
	var out Cited[[]string]
	found := false
	for _, p := range ps {
		c := p.Citizens.Relations
		if c.Inherited() || len(c.Cite) == 0 {
			continue
		}
		if !found {
			out, found = Cited[[]string]{clone(c.Value), clone(c.Cite)}, true
			continue
		}
		var keep []string
		for _, r := range out.Value {
			if slices.Contains(c.Value, r) {
				keep = append(keep, r)
			}
		}
		out.Value = keep
		out.Cite = union(out.Cite, c.Cite)
	}
	if !found {
		return Cited[[]string]{clone(ps[0].Citizens.Relations.Value), []string{noSeed}}
	}
	return out
}

// unionSet is the union of the explicit true entries of a code set, citing every profile that states each.
func unionSet(ps []*Profile, get func(*Profile) map[string]Cited[bool]) map[string]Cited[bool] {
	out := map[string]Cited[bool]{}
	for _, p := range ps {
		for _, k := range sortedKeys(get(p)) {
			c := get(p)[k]
			if !c.Value || c.Inherited() {
				continue
			}
			out[k] = Cited[bool]{true, union(out[k].Cite, c.Cite)}
		}
	}
	return out
}
