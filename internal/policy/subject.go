// Package policy is the one gate (ACC-1, ACC-3): a single place that decides
// whether a person may do an action — view live, play back, export, move a
// camera, administer — on which cameras or units, over which time range,
// for which stated purpose; and that writes the access registry (调用登记)
// for every decision on video in the same transaction as its audit entry.
//
// Invariants:
//   - Deny unless a grant allows: a permission counts only inside the unit
//     subtree its grant is scoped to, and an API token narrows, never
//     widens, its owner's permissions.
//   - Every read of video carries a Decision whose access record was
//     committed before the first byte is served. A Decision is a
//     capability: only this package constructs one (its fields are
//     unexported), and every function that reads footage or subscribes to
//     a camera's stream takes it and checks Covers(action, camera, range)
//     (TestExportedMediaReadsNeedADecision keeps it so).
//   - The access registry (access_records) is read and written only here:
//     reusing a recent access (ReuseWindow) is the gate's decision, on its
//     clock.
//   - A file a person keeps is an Export: it needs an authentication within
//     ReauthWindow, and while the profile's obligations cannot be met it is
//     refused naming them.
//   - The rules that come from the regulations (reason required, approval,
//     second person) are obligations on an allow, read from the active
//     jurisdiction profile; the later governance work enforces them.
package policy

import (
	"strings"
	"time"
)

// Permission is one capability a role carries.
type Permission string

// The permissions. Names are stable: roles store them.
const (
	AdminUnits   Permission = "admin.units"     // create and edit units in scope
	AdminUsers   Permission = "admin.users"     // create, edit, disable users and grant roles in scope
	AdminRoles   Permission = "admin.roles"     // define roles (global)
	AdminSystem  Permission = "admin.system"    // settings, profile, tokens of others
	AuditRead    Permission = "audit.read"      // read and verify the audit log
	AccessRead   Permission = "access.read"     // read the access registry (调用登记)
	CameraAdmin  Permission = "camera.admin"    // camera files and configuration in scope
	CameraLive   Permission = "camera.live"     // view live video
	CameraPlay   Permission = "camera.playback" // play back recordings
	CameraExport Permission = "camera.export"   // copy and export footage
	CameraPTZ    Permission = "camera.ptz"      // pan-tilt-zoom and presets
	TokensOwn    Permission = "tokens.own"      // create and revoke one's own API tokens
)

// AllPermissions lists every permission, for validation and the console.
var AllPermissions = []Permission{AdminUnits, AdminUsers, AdminRoles, AdminSystem, AuditRead, AccessRead,
	CameraAdmin, CameraLive, CameraPlay, CameraExport, CameraPTZ, TokensOwn}

// ValidPermission reports whether p is known.
func ValidPermission(p Permission) bool {
	for _, q := range AllPermissions {
		if p == q {
			return true
		}
	}
	return false
}

// Grant is a role held over a unit subtree.
type Grant struct {
	Role        string       `json:"role"`
	Permissions []Permission `json:"permissions"`
	ScopeUnitID string       `json:"scope_unit_id"`
	ScopePath   string       `json:"scope_path"` // the scope unit's path, "/root/…/id/"
}

// Subject is the person (or the person behind a token) asking.
type Subject struct {
	UserID          string   `json:"user_id"`
	Username        string   `json:"username"`
	Name            string   `json:"name"`
	UnitID          string   `json:"unit_id"`
	UnitName        string   `json:"unit_name"`
	UnitKind        string   `json:"unit_kind"`
	Grants          []Grant  `json:"grants"`
	TokenID         string   `json:"token_id,omitempty"`     // set when the request came with an API token
	TokenScopes     []string `json:"token_scopes,omitempty"` // permissions the token is limited to
	StandingPurpose string   `json:"standing_purpose,omitempty"`
	Remote          string   `json:"-"`
	// AuthenticatedAt is when the person last proved who they are (sign-in
	// or re-authentication); zero when unknown (an API token). An export
	// needs it within ReauthWindow.
	AuthenticatedAt time.Time `json:"-"`
}

// Can reports whether the subject holds perm over the unit at unitPath (a
// unit path "/…/id/"; "" asks for the permission anywhere, for global
// actions such as defining roles).
func (s *Subject) Can(perm Permission, unitPath string) bool {
	if s == nil || s.UserID == "" {
		return false
	}
	if s.TokenID != "" && !contains(s.TokenScopes, string(perm)) {
		return false
	}
	for _, g := range s.Grants {
		if !hasPerm(g.Permissions, perm) {
			continue
		}
		if unitPath == "" || strings.HasPrefix(unitPath, g.ScopePath) {
			return true
		}
	}
	return false
}

// Scopes returns the unit paths under which the subject holds perm — the
// filter for listing what it may see.
func (s *Subject) Scopes(perm Permission) []string {
	if s == nil || (s.TokenID != "" && !contains(s.TokenScopes, string(perm))) {
		return nil
	}
	var out []string
	for _, g := range s.Grants {
		if hasPerm(g.Permissions, perm) {
			out = append(out, g.ScopePath)
		}
	}
	return out
}

// CameraPermissions are the permissions that show a camera (any of them):
// reading its file and state, not its video, which is the gate's.
var CameraPermissions = []Permission{CameraAdmin, CameraLive, CameraPlay, CameraExport, CameraPTZ}

// SeesCameras reports whether the subject may see the cameras of the unit
// at unitPath: it holds one of CameraPermissions over it.
func (s *Subject) SeesCameras(unitPath string) bool {
	for _, p := range CameraPermissions {
		if s.Can(p, unitPath) {
			return true
		}
	}
	return false
}

// Permissions returns the distinct permissions the subject holds anywhere.
func (s *Subject) Permissions() []Permission {
	seen := map[Permission]bool{}
	var out []Permission
	for _, g := range s.Grants {
		for _, p := range g.Permissions {
			if !seen[p] && (s.TokenID == "" || contains(s.TokenScopes, string(p))) {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func hasPerm(ps []Permission, p Permission) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
