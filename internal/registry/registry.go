// Package registry holds Vigil's registry of camera points (一机一档): every
// camera's file, its sites and protected zones, the systems (系统) that group
// a unit's cameras with their archives, the filings (备案) with the police,
// the resource catalogue (资源目录) in and out, and the geometric checks —
// coverage overlap and protected zones (REG-1 … REG-12).
//
// Invariants:
//   - cameras is the one camera table of Vigil; a camera belongs to exactly
//     one unit (unit_id), and permission is decided on that unit's path.
//   - Every change of a file writes, in the same transaction, its audit entry
//     and one camera_history row per changed field (who, when, old, new).
//   - A GB/T 28181 code is unique and structurally valid; a camera at a place
//     type the active profile prohibits is never stored (REG-6).
//   - Lifecycle moves only registered → admitted → online ⇄ offline →
//     deregistered; admission needs a complete file and, inside a protected
//     zone, a consent record (REG-2, REG-7).
//   - Stream URLs (with credentials) are stored sealed by the keyring, bound
//     to the camera id; they are never returned by the API.
//   - The coverage index mirrors the committed rows: it changes only after
//     a transaction commits.
//   - A bulk import writes all its rows in one transaction or none.
package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"vigil/internal/audit"
	"vigil/internal/keyring"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/profile"
	"vigil/internal/store"
)

// Service is the registry.
type Service struct {
	db      *store.DB
	audit   *audit.Log
	profile *profile.Profile
	keyring *keyring.Keyring
	files   AttachmentStore
	now     func() time.Time

	// OverlapThreshold is the share (0..1) of a planned camera's sector
	// already covered above which it is flagged (REG-8). Default 0.3.
	OverlapThreshold float64

	idxMu  sync.Mutex
	idx    *CoverageIndex // nil until first used
	idxErr error
}

// New returns the registry over db. files stores attachment bytes (see
// DirStore); it may be nil when attachments are not used.
func New(db *store.DB, log *audit.Log, p *profile.Profile, kr *keyring.Keyring, files AttachmentStore) *Service {
	return &Service{db: db, audit: log, profile: p, keyring: kr, files: files, now: time.Now, OverlapThreshold: 0.3}
}

// SetClock replaces the service's clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func newID() string { return keyring.RandomToken(8) }

// unitInfo is what the registry needs of a unit.
type unitInfo struct {
	ID, Path, Name, Kind, Division string
}

func (s *Service) unit(ctx context.Context, q querier, id string) (unitInfo, error) {
	var u unitInfo
	err := q.QueryRow(ctx, `SELECT id, path, name, kind, division FROM units WHERE id = ?`, id).Scan(&u.ID, &u.Path, &u.Name, &u.Kind, &u.Division)
	if errors.Is(err, sql.ErrNoRows) {
		return u, problem.NotFound("registry.unit_not_found", problem.P{"id": id})
	}
	if err != nil {
		return u, fmt.Errorf("load unit %s: %w", id, err)
	}
	return u, nil
}

// querier is what DB and Tx have in common.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// cameraPerms are the permissions that let a subject read camera files.
var cameraPerms = []policy.Permission{policy.CameraAdmin, policy.CameraLive, policy.CameraPlay, policy.CameraExport, policy.CameraPTZ}

// readScopes returns the unit paths under which subj may read files.
func readScopes(subj *policy.Subject) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range cameraPerms {
		for _, sc := range subj.Scopes(p) {
			if !seen[sc] {
				seen[sc] = true
				out = append(out, sc)
			}
		}
	}
	// Police units reviewing filings read the files of the units they oversee.
	if subj != nil && subj.UnitKind == "police" {
		for _, sc := range subj.Scopes(policy.AdminUnits) {
			if !seen[sc] {
				seen[sc] = true
				out = append(out, sc)
			}
		}
	}
	return out
}

func canRead(subj *policy.Subject, unitPath string) bool {
	for _, sc := range readScopes(subj) {
		if strings.HasPrefix(unitPath, sc) {
			return true
		}
	}
	return false
}

// checkRead returns a denial unless subj may read files of the unit.
func checkRead(subj *policy.Subject, u unitInfo) error {
	if canRead(subj, u.Path) {
		return nil
	}
	return &policy.DeniedError{Permission: policy.CameraAdmin, Target: "unit " + u.Name}
}

// checkAnyRead returns a denial unless subj may read files somewhere.
func checkAnyRead(subj *policy.Subject) error {
	if len(readScopes(subj)) > 0 {
		return nil
	}
	return &policy.DeniedError{Permission: policy.CameraAdmin, Target: "the camera registry"}
}

// checkReview returns a denial unless subj may review filings of the unit
// u (REG-3): the subject's own unit is a police unit (公安机关) that is not
// the filing unit nor inside its subtree — nobody reviews their own filing —
// and the subject holds admin.units over the filing unit (the district
// police over its area). own is the subject's unit as stored now.
func checkReview(subj *policy.Subject, own, u unitInfo) error {
	if subj != nil && own.Kind == "police" && own.ID == subj.UnitID && !strings.HasPrefix(own.Path, u.Path) &&
		subj.Can(policy.AdminUnits, u.Path) {
		return nil
	}
	return &policy.DeniedError{Permission: policy.AdminUnits, Target: "unit " + u.Name,
		Reason: "filings are reviewed by the police: a user of a police unit other than " + u.Name + " (and outside it) holding admin.units over " + u.Name}
}

// scopeWhere returns an SQL condition limiting column (a unit path
// expression) to the scopes, and its arguments; "1=0" when there are none.
func scopeWhere(column string, scopes []string) (string, []any) {
	if len(scopes) == 0 {
		return "1=0", nil
	}
	var or []string
	var args []any
	for _, p := range scopes {
		or = append(or, column+" LIKE ?")
		args = append(args, p+"%")
	}
	return "(" + strings.Join(or, " OR ") + ")", args
}

func (s *Service) auditTx(ctx context.Context, tx *store.Tx, a audit.Actor, action, object string, details map[string]any) error {
	if s.audit == nil {
		return nil
	}
	_, err := s.audit.AppendTx(ctx, tx, audit.Entry{Actor: a, Action: action, Object: object, Outcome: audit.OK, Details: details})
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Actor makes the audit actor of a subject.
func Actor(subj *policy.Subject) audit.Actor {
	if subj == nil {
		return audit.System
	}
	return audit.Actor{ID: subj.UserID, Name: subj.Name, Unit: subj.UnitName, Remote: subj.Remote}
}
