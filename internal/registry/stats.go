package registry

import (
	"context"
	"fmt"

	"vigil/internal/policy"
)

// UnitCompleteness is a unit's compliance line for the police (OPS-6, the
// registry's part): the completeness score — the mean of its cameras'
// scores — with the count of incomplete files, of public cameras without
// signage (REG-1, REG-9), the online rate of admitted cameras, and its
// systems with overdue filings (REG-3).
type UnitCompleteness struct {
	UnitID         string  `json:"unit_id"`
	UnitName       string  `json:"unit_name"`
	Cameras        int     `json:"cameras"`
	Score          float64 `json:"score"`
	Incomplete     int     `json:"incomplete"`
	SignageMissing int     `json:"signage_missing"`
	InService      int     `json:"in_service"` // admitted, online or offline
	Online         int     `json:"online"`
	OnlineRate     float64 `json:"online_rate"` // online / in service (0 when none)
	FilingsOverdue int     `json:"filings_overdue"`
}

// Completeness reports per unit, for the units subj may read (unitID: that
// unit's subtree). Deregistered cameras are left out.
func (s *Service) UnitCompleteness(ctx context.Context, subj *policy.Subject, unitID string) ([]UnitCompleteness, error) {
	cond, args := scopeWhere("u.path", readScopes(subj))
	if unitID != "" {
		u, err := s.unit(ctx, s.db, unitID)
		if err != nil {
			return nil, err
		}
		cond += " AND u.path LIKE ?"
		args = append(args, u.Path+"%")
	}
	rows, err := s.db.Query(ctx, `SELECT c.unit_id, u.name, COUNT(*), AVG(c.completeness),
		SUM(CASE WHEN c.completeness < 100 THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.public = ? AND c.signage = ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state IN ('admitted', 'online', 'offline') THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.state = 'online' THEN 1 ELSE 0 END)
		FROM cameras c JOIN units u ON u.id = c.unit_id WHERE c.state <> 'deregistered' AND `+cond+`
		GROUP BY c.unit_id, u.name ORDER BY u.name`, append([]any{true, false}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("unit completeness: %w", err)
	}
	defer rows.Close()
	out := []UnitCompleteness{}
	for rows.Next() {
		var u UnitCompleteness
		if err := rows.Scan(&u.UnitID, &u.UnitName, &u.Cameras, &u.Score, &u.Incomplete, &u.SignageMissing, &u.InService, &u.Online); err != nil {
			return nil, err
		}
		if u.InService > 0 {
			u.OnlineRate = float64(u.Online) / float64(u.InService)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	due, err := s.FilingsDue(ctx, subj, unitID, true)
	if err != nil {
		return nil, err
	}
	for _, d := range due {
		for i := range out {
			if out[i].UnitID == d.UnitID {
				out[i].FilingsOverdue++
			}
		}
	}
	return out, nil
}
