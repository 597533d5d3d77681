package profile

import "slices"

// MinRetentionDays returns the minimum number of days footage of a camera must
// be kept (RET-1): the largest of the general minimum, the site category's
// override, and the anti-terror key target or security key unit minimum when
// the site is one. The cite is that of the rule that set the number; on a tie
// the more general rule is cited.
func (p *Profile) MinRetentionDays(siteCategory string, antiTerror, securityKeyUnit bool) (days int, cite []string) {
	best := p.Retention.MinDays
	consider := func(c Cited[int]) {
		if c.Value > best.Value {
			best = c
		}
	}
	if c, ok := p.Retention.ByCategory[siteCategory]; ok {
		consider(c)
	}
	if securityKeyUnit {
		consider(p.Retention.SecurityKeyUnitMinDays)
	}
	if antiTerror {
		consider(p.Retention.AntiTerrorMinDays)
	}
	return best.Value, clone(best.Cite)
}

// IsProhibitedPlace reports whether a camera may not be installed in a place
// of this type (REG-6), with the articles that say so.
func (p *Profile) IsProhibitedPlace(placeType string) (bool, []string) {
	c, ok := p.Privacy.ProhibitedPlaces[placeType]
	if !ok {
		return false, nil
	}
	return c.Value, clone(c.Cite)
}

// ProhibitedPlaces returns the codes of the prohibited place types, in catalogue order.
func (p *Profile) ProhibitedPlaces() []string {
	var out []string
	for _, k := range orderedKeys(p.Privacy.ProhibitedPlaces, placeTypes) {
		if p.Privacy.ProhibitedPlaces[k].Value {
			out = append(out, k)
		}
	}
	return out
}

// MandatedSiteCategories returns the codes of the site categories this profile
// requires to be covered (REG-5), in catalogue order.
func (p *Profile) MandatedSiteCategories() []string {
	var out []string
	for _, k := range orderedKeys(p.Sites.Mandated, siteCategories) {
		if p.Sites.Mandated[k].Value {
			out = append(out, k)
		}
	}
	return out
}

// IsMandatedSite reports whether the profile requires sites of this category
// to be covered, with the articles that say so.
func (p *Profile) IsMandatedSite(category string) (bool, []string) {
	c, ok := p.Sites.Mandated[category]
	if !ok {
		return false, nil
	}
	return c.Value, clone(c.Cite)
}

// RetrievalApproval returns who must approve before a requester of this kind
// copies or retrieves (复制、调取) footage (ACC-4), one of the codes of
// Approvals(). An unknown kind gets "forbidden" and no cite.
func (p *Profile) RetrievalApproval(requesterKind string) (approval string, cite []string) {
	a, ok := p.Retrieval.Approval[requesterKind]
	if !ok {
		return "forbidden", nil
	}
	return a.Copy.Value, clone(a.Copy.Cite)
}

// ViewApproval returns who must approve before a requester of this kind views
// (查阅) footage, one of the codes of Approvals(). An unknown kind gets "forbidden".
func (p *Profile) ViewApproval(requesterKind string) (approval string, cite []string) {
	a, ok := p.Retrieval.Approval[requesterKind]
	if !ok {
		return "forbidden", nil
	}
	return a.View.Value, clone(a.View.Cite)
}

// ImportantFootageHoldDays is the minimum hold of important footage about
// public security, emergencies or crimes (RET-2).
func (p *Profile) ImportantFootageHoldDays() (int, []string) {
	return p.Retention.ImportantHoldDays.Value, clone(p.Retention.ImportantHoldDays.Cite)
}

// AuditLogRetentionDays is the minimum age the audit log keeps entries (AUD-1).
func (p *Profile) AuditLogRetentionDays() (int, []string) {
	return p.Audit.LogRetentionDays.Value, clone(p.Audit.LogRetentionDays.Cite)
}

// FilingDeadlineDays is the number of days after the trigger (FilingTrigger)
// within which a system is filed with the police (REG-3).
func (p *Profile) FilingDeadlineDays() (int, []string) {
	return p.Filing.DeadlineDays.Value, clone(p.Filing.DeadlineDays.Cite)
}

// MoveFilingDeadlineDays is, for a permanent move of a camera, what
// RemovalFilingDeadlineDays is for a removal: the window (the removal's),
// whether a move is filed at all, before or after, and the articles.
func (p *Profile) MoveFilingDeadlineDays() (days int, required bool, timing string, cite []string) {
	f := p.Filing
	cite = clone(f.MoveRequired.Cite)
	if f.MoveRequired.Value {
		cite = union(cite, f.RemovalDeadlineDays.Cite, f.RemovalTiming.Cite)
	}
	return f.RemovalDeadlineDays.Value, f.MoveRequired.Value, f.RemovalTiming.Value, cite
}

// FilingTrigger is the event the filing deadline counts from: "acceptance" or "in_use".
func (p *Profile) FilingTrigger() (string, []string) {
	return p.Filing.Trigger.Value, clone(p.Filing.Trigger.Cite)
}

// RemovalFilingDeadlineDays is the removal-filing window in days, whether a
// removal must be filed at all, and whether the window is "before" or "after"
// the removal.
func (p *Profile) RemovalFilingDeadlineDays() (days int, required bool, timing string, cite []string) {
	f := p.Filing
	cite = clone(f.RemovalRequired.Cite)
	if f.RemovalRequired.Value {
		cite = union(cite, f.RemovalDeadlineDays.Cite, f.RemovalTiming.Cite)
	}
	return f.RemovalDeadlineDays.Value, f.RemovalRequired.Value, f.RemovalTiming.Value, cite
}

// SharingGrantMaxDays is the longest a sharing grant may last before it must be
// applied for again (ACC-6).
func (p *Profile) SharingGrantMaxDays() (int, []string) {
	return p.Sharing.GrantMaxDays.Value, clone(p.Sharing.GrantMaxDays.Cite)
}

// TwoPersonRetrieval reports whether retrieval needs at least two staff (ACC-5).
func (p *Profile) TwoPersonRetrieval() (bool, []string) {
	return p.Retrieval.TwoPerson.Value, clone(p.Retrieval.TwoPerson.Cite)
}

// EmergencyAccess returns the break-glass rule: whether departments handling
// an emergency may act at once, and whether that access is reviewed afterwards.
func (p *Profile) EmergencyAccess() Emergency { return p.Emergency }

// CitizensAccess returns the citizens' access rule (ACC-7).
func (p *Profile) CitizensAccess() Citizens { return p.Citizens }

// SignageRequired reports whether cameras in public places need visible signage (REG-9).
func (p *Profile) SignageRequired() (bool, []string) {
	return p.Privacy.Signage.Value, clone(p.Privacy.Signage.Cite)
}

func clone(s []string) []string { return slices.Clone(s) }

// union returns the strings of all lists, first occurrence kept, in order.
func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
